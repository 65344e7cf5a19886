using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Runtime.Planning;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;

namespace Sparrow.Runtime;

/// <summary>
/// Runs a model. Compiles the graph once (passes, operator choice, memory plan); <see cref="Run(IReadOnlyDictionary{string, Tensor})"/> may be
/// called from many threads at once. Inputs are read in place (no copy); outputs are handed over, and the
/// caller disposes them to return their memory to the pool.
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly ExecutionPlan _plan;
    private readonly SessionOptions _options;
    private bool _disposed;

    /// <summary>Loads the ONNX model at <paramref name="modelPath"/> and compiles it.</summary>
    /// <exception cref="Sparrow.Graph.ModelException">The file is missing or malformed, or the model uses an operator or attribute Sparrow does not run.</exception>
    public InferenceSession(string modelPath, SessionOptions? options = null)
        : this(OnnxImporter.Load(modelPath), options)
    {
    }

    /// <summary>Compiles <paramref name="model"/> (which is not changed: the session works on a copy sharing its tensors).</summary>
    /// <exception cref="Sparrow.Graph.ModelException">The model uses an operator or attribute Sparrow does not run, or is inconsistent.</exception>
    /// <exception cref="ArgumentException"><see cref="SessionOptions.SparseKernel"/> names no known kernel.</exception>
    /// <exception cref="Sparrow.Graph.ModelException">A weight holds NaN (with <see cref="SessionOptions.CheckWeights"/>, the default).</exception>
    public InferenceSession(Model model, SessionOptions? options = null)
    {
        _options = options ?? new SessionOptions();
        WeightKernelSelector.ResolveKernelName(_options.SparseKernel); // a misspelt kernel fails before any work
        if (_options.CheckWeights) NumericCheck.ThrowIfWeightsHoldNaN(model);
        // A copy either way (tensors shared): the weights the operators keep in their own form leave it below.
        Model = _options.OptimizeGraph ? GraphOptimizer.Optimize(model, _options) : model.Clone();
        InputMetadata = model.Graph.RequiredInputs.ToArray();
        OutputMetadata = model.Graph.Outputs.ToArray();
        _plan = ExecutionPlan.Build(Model, _options);
        foreach (var name in _plan.ReleasedInitializers) Model.Graph.Initializers.Remove(name);
    }

    /// <summary>
    /// The model as compiled (after graph passes). Weights that operators hold in a packed or sparse form of
    /// their own are not among its initializers, so that the session keeps one copy of each weight.
    /// </summary>
    public Model Model { get; }

    /// <summary>The kernel chosen for each constant MatMul, Gemm and Linear weight (dense or a sparse format), and why.</summary>
    public IReadOnlyList<WeightKernelChoice> WeightKernels => _plan.WeightKernels;

    /// <summary>Bytes of all the weights the session holds: constant tensors plus the packed and sparse forms of weights.</summary>
    public long WeightBytes => _plan.WeightBytes;

    /// <summary>The model's inputs (weights excluded): name, element type and declared shape.</summary>
    public IReadOnlyList<ValueInfo> InputMetadata { get; }

    /// <summary>The model's outputs: name, element type and declared shape.</summary>
    public IReadOnlyList<ValueInfo> OutputMetadata { get; }

    /// <summary>The operators in the order they run, for inspection and profiles.</summary>
    public IEnumerable<Node> ExecutionOrder => _plan.Steps.Select(s => s.Operator.Node);

    /// <summary>Runs the model on <paramref name="inputs"/> (name → tensor, read in place) and returns every graph output by name; the caller owns and disposes the outputs.</summary>
    /// <exception cref="InferenceException">An input is missing, has the wrong type or shape, or a node fails; the message names it.</exception>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => Run(inputs, profile: null);

    /// <param name="profile">When given, receives each node's wall time.</param>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, NodeProfile? profile)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckInputs(inputs);
        var slots = new Tensor?[_plan.SlotCount];
        var owned = new bool[_plan.SlotCount];
        foreach (var (slot, tensor) in _plan.Constants) slots[slot] = tensor;
        foreach (var (name, tensor) in inputs) slots[_plan.InputSlots[name]] = tensor;
        var context = new RunContext(_options.EffectiveThreads, _options.MaxTensorBytes);
        try
        {
            foreach (var step in _plan.Steps)
            {
                var args = new Tensor?[step.Inputs.Length];
                for (var i = 0; i < args.Length; i++)
                {
                    var s = step.Inputs[i];
                    if (s < 0) continue;
                    args[i] = slots[s] ?? throw new InferenceException(
                        $"node {step.Operator.Node.DisplayName}: input '{step.Operator.Node.Inputs[i]}' has no value (an optional output that was not produced).");
                }
                var started = profile is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                Tensor[] results;
                try
                {
                    results = step.Operator.Run(args, context);
                }
                catch (Exception e) when (e is not InferenceException and not OutOfMemoryException)
                {
                    throw new InferenceException($"node {step.Operator.Node.DisplayName}: {e.Message}", e);
                }
                profile?.Record(step.Operator.Node, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                for (var i = 0; i < step.Outputs.Length; i++)
                {
                    var s = step.Outputs[i];
                    if (i >= results.Length) break;
                    if (s < 0) { results[i].Dispose(); continue; }
                    slots[s] = results[i];
                    owned[s] = true;
                    if (_options.CheckNumerics) NumericCheck.ThrowIfNotFinite(results[i], step.Operator.Node, step.Operator.Node.Outputs[i]);
                }
                foreach (var s in step.FreeAfter)
                {
                    if (owned[s]) slots[s]?.Dispose();
                    slots[s] = null;
                    owned[s] = false;
                }
            }
            var outputs = new Dictionary<string, Tensor>(_plan.OutputSlots.Length);
            foreach (var (name, slot) in _plan.OutputSlots)
            {
                // A node may declare more outputs than its operator makes (an optional output it never writes).
                var t = slots[slot] ?? throw new InferenceException($"output '{name}' was not produced: the node that declares it does not make it.");
                // Hand over tensors we made; anything else (an input, a constant, a repeated output) as a view.
                if (owned[slot] && !outputs.Values.Contains(t)) outputs[name] = t;
                else outputs[name] = t.Reshape(t.Shape);
                owned[slot] = false;
            }
            return outputs;
        }
        catch
        {
            for (var i = 0; i < slots.Length; i++) if (owned[i]) slots[i]?.Dispose();
            throw;
        }
    }

    private void CheckInputs(IReadOnlyDictionary<string, Tensor> inputs)
    {
        foreach (var name in inputs.Keys)
            if (!_plan.InputSlots.ContainsKey(name))
                throw new InferenceException($"input '{name}' is not an input of this model; its inputs are: {string.Join(", ", InputMetadata.Select(i => i.Name))}.");
        foreach (var info in InputMetadata)
        {
            if (!inputs.TryGetValue(info.Name, out var t))
                throw new InferenceException($"input '{info}' is missing.");
            if (info.ElementType != DataType.Undefined && t.ElementType != info.ElementType)
                throw new InferenceException($"input '{info.Name}' must be {DataTypes.Name(info.ElementType)}, got {DataTypes.Name(t.ElementType)}.");
            if (info.Shape is null) continue;
            var ok = info.Shape.Count == t.Rank;
            for (var d = 0; ok && d < t.Rank; d++)
                if (info.Shape[d].Value is { } v && v != t.Shape[d]) ok = false;
            if (!ok)
                throw new InferenceException($"input '{info.Name}' must have shape [{string.Join(",", info.Shape)}], got {TensorShape.Format(t.Shape)}.");
        }
        if (_options.CheckInputs)
            foreach (var (name, tensor) in inputs) NumericCheck.ThrowIfInputNotFinite(name, tensor);
    }

    /// <summary>Marks the session closed; later runs throw <see cref="ObjectDisposedException"/>. Weights belong to the model and are not freed.</summary>
    public void Dispose() => _disposed = true;
}
