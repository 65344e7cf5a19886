using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Training.Backward;

namespace Sparrow.Training.Autograd;

/// <summary>
/// An ONNX graph compiled for training. The forward pass runs node by node with the runtime's own operators
/// and keeps every value the backward rules read; the backward pass walks the nodes in reverse, calls one
/// <see cref="BackwardRule"/> per node, and accumulates the gradients of the trainable parameters (chosen
/// float initializers, updated in place so the model always holds the current weights).
/// The graph is used as given: run it unoptimised (fused ai.sparrow Linear nodes are supported too).
/// </summary>
public sealed class TrainingGraph
{
    private readonly Node[] _order;
    private readonly Operator[] _operators;
    private readonly BackwardRule?[] _rules;
    private readonly HashSet<string> _needsGradient;
    private readonly Dictionary<string, Parameter> _parameters;
    private readonly RunContext _runContext;
    private readonly SparseLinear?[] _sparseForward;

    /// <param name="model">The model; its initializers named in <paramref name="parameterNames"/> become trainable.</param>
    /// <param name="parameterNames">Float initializers to train.</param>
    /// <param name="threads">Threads each operator and rule may use.</param>
    public TrainingGraph(Model model, IEnumerable<string> parameterNames, int threads = 1)
    {
        Model = model;
        var graph = model.Graph;
        _parameters = new Dictionary<string, Parameter>();
        var list = new List<Parameter>();
        foreach (var name in parameterNames)
        {
            if (!graph.Initializers.TryGetValue(name, out var tensor))
                throw new ArgumentException($"'{name}' is not an initializer of the model, so it cannot be trained.");
            if (tensor is not Tensor<float> value)
                throw new ArgumentException($"'{name}' is {tensor}; only float32 initializers can be trained.");
            if (_parameters.ContainsKey(name)) continue;
            var parameter = new Parameter(name, value);
            _parameters[name] = parameter;
            list.Add(parameter);
        }
        Parameters = list;
        Threads = Math.Max(1, threads);
        _runContext = new RunContext(Threads);

        _order = TopologicalOrder(graph);
        var context = new OperatorContext(model, new SessionOptions { IntraOpThreads = Threads, OptimizeGraph = false });
        _operators = _order.Select(n => OperatorRegistry.Create(n, context)).ToArray();

        _sparseForward = _order.Select(n => SparseLinear.Plan(n, _parameters)).ToArray();

        // A value needs a gradient when it depends on a parameter through differentiable nodes.
        _needsGradient = new HashSet<string>(_parameters.Keys);
        _rules = new BackwardRule?[_order.Length];
        for (var i = 0; i < _order.Length; i++)
        {
            var node = _order[i];
            if (!node.Inputs.Any(x => x.Length > 0 && _needsGradient.Contains(x))) continue;
            var rule = BackwardRegistry.Create(node, context);
            if (rule is NoGradientRule) continue;
            _rules[i] = rule;
            foreach (var output in node.Outputs)
                if (output.Length > 0) _needsGradient.Add(output);
        }
    }

    /// <summary>The model whose initializers are trained.</summary>
    public Model Model { get; }

    /// <summary>The trainable parameters, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Threads per operator.</summary>
    public int Threads { get; }

    /// <summary>
    /// Compute masked weight gradients of MatMul/Gemm/Linear only at kept positions when the weight is sparse
    /// enough for that to pay (density up to 15%; default); false always computes them densely and masks after.
    /// </summary>
    public bool SparseWeightGradients { get; set; } = true;

    /// <summary>
    /// Run MatMul and Gemm (transB = 1) over a masked weight with density up to 15% as a CSR product built from
    /// the current weight at each step. Off by default: on LeNet-300-100 at 90% sparsity and batch 128 it made
    /// the forward pass about twice as slow as the dense GEMM (1.37 ms against 0.63-0.79 ms, thread CPU time),
    /// which runs near peak at that batch; it is kept for small batches and for measuring.
    /// </summary>
    public bool SparseForward { get; set; }

    /// <summary>The parameter of that name.</summary>
    public Parameter Parameter(string name) =>
        _parameters.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"'{name}' is not a trainable parameter.");

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGradients()
    {
        foreach (var p in Parameters) p.ZeroGradient();
    }

    /// <summary>Runs the graph on <paramref name="inputs"/> (the caller keeps them alive until the pass is disposed).</summary>
    public ForwardPass Forward(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = new Dictionary<string, Tensor>();
        var owned = new List<Tensor>();
        foreach (var (name, tensor) in Model.Graph.Initializers) values[name] = tensor;
        foreach (var input in Model.Graph.Inputs)
        {
            if (inputs.TryGetValue(input.Name, out var t)) values[input.Name] = t;
            else if (!values.ContainsKey(input.Name)) throw new ArgumentException($"The graph input '{input.Name}' was not given.");
        }
        try
        {
            for (var i = 0; i < _order.Length; i++)
            {
                var node = _order[i];
                var ins = new Tensor?[node.Inputs.Count];
                for (var j = 0; j < ins.Length; j++)
                    ins[j] = node.Inputs[j].Length == 0 ? null
                        : values.TryGetValue(node.Inputs[j], out var v) ? v
                        : throw new InvalidOperationException($"node {node.DisplayName}: input '{node.Inputs[j]}' has no value.");
                Tensor[] outs;
                try
                {
                    outs = (SparseForward ? _sparseForward[i]?.TryRun(ins, Threads) : null) ?? _operators[i].Run(ins, _runContext);
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException)
                {
                    throw new InferenceException($"node {node.DisplayName}: {e.Message}", e);
                }
                for (var j = 0; j < outs.Length; j++)
                {
                    owned.Add(outs[j]);
                    if (j < node.Outputs.Count && node.Outputs[j].Length > 0) values[node.Outputs[j]] = outs[j];
                }
            }
        }
        catch
        {
            foreach (var t in owned) t.Dispose();
            throw;
        }
        return new ForwardPass(this, values, owned);
    }

    /// <summary>
    /// Propagates <paramref name="outputGradients"/> (gradients of the loss with respect to graph values,
    /// usually the outputs) back through the pass and adds the parameters' gradients into <see cref="Parameter.Gradient"/>.
    /// </summary>
    internal void Backward(ForwardPass pass, IReadOnlyDictionary<string, Tensor<float>> outputGradients)
    {
        var gradients = new Dictionary<string, Tensor<float>>();
        try
        {
            foreach (var (name, g) in outputGradients)
            {
                if (!pass.Values.TryGetValue(name, out var value)) throw new ArgumentException($"'{name}' is not a value of the graph.");
                if (!value.Shape.SequenceEqual(g.Shape))
                    throw new ArgumentException($"The gradient of '{name}' has shape {TensorShape.Format(g.Shape)}, the value {TensorShape.Format(value.Shape)}.");
                if (_needsGradient.Contains(name)) gradients[name] = g.Clone();
            }
            for (var i = _order.Length - 1; i >= 0; i--)
            {
                var rule = _rules[i];
                if (rule is null) continue;
                var node = _order[i];
                var outputGrads = new Tensor<float>?[node.Outputs.Count];
                var any = false;
                for (var j = 0; j < outputGrads.Length; j++)
                {
                    if (node.Outputs[j].Length > 0 && gradients.Remove(node.Outputs[j], out var g))
                    {
                        outputGrads[j] = g;
                        any = true;
                    }
                }
                if (!any) continue;
                var needs = new bool[node.Inputs.Count];
                var masks = new ParameterMask?[node.Inputs.Count];
                var ins = new Tensor?[node.Inputs.Count];
                for (var j = 0; j < needs.Length; j++)
                {
                    var name = node.Inputs[j];
                    if (name.Length == 0) continue;
                    ins[j] = pass.Values[name];
                    needs[j] = _needsGradient.Contains(name);
                    if (_parameters.TryGetValue(name, out var p)) masks[j] = p.Mask;
                }
                var outs = node.Outputs.Select(o => o.Length > 0 && pass.Values.TryGetValue(o, out var v) ? v : null).ToArray();
                Tensor<float>?[] inputGrads;
                try
                {
                    inputGrads = rule.Backward(new BackwardContext(ins, outs, outputGrads, needs, masks, Threads, SparseWeightGradients));
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException)
                {
                    throw new InferenceException($"backward of node {node.DisplayName}: {e.Message}", e);
                }
                finally
                {
                    foreach (var g in outputGrads) g?.Dispose();
                }
                for (var j = 0; j < inputGrads.Length && j < needs.Length; j++)
                {
                    var g = inputGrads[j];
                    if (g is null) continue;
                    if (!needs[j])
                    {
                        g.Dispose();
                        continue;
                    }
                    var name = node.Inputs[j];
                    if (g.Length != ins[j]!.Length)
                        throw new InvalidOperationException($"backward of node {node.DisplayName} gave input {j} a gradient of shape {TensorShape.Format(g.Shape)} for a value of shape {TensorShape.Format(ins[j]!.Shape)}.");
                    if (_parameters.TryGetValue(name, out var parameter))
                    {
                        TensorMath.AddInto(parameter.Gradient, g.Span);
                        g.Dispose();
                    }
                    else if (gradients.TryGetValue(name, out var existing))
                    {
                        TensorMath.AddInto(existing.Span, g.Span);
                        g.Dispose();
                    }
                    else gradients[name] = g.Shape.SequenceEqual(ins[j]!.Shape) ? g : Reshaped(g, ins[j]!.Shape);
                }
            }
        }
        finally
        {
            foreach (var g in gradients.Values) g.Dispose();
        }
        foreach (var p in Parameters) p.Mask?.ZeroPruned(p.Gradient);
    }

    private static Tensor<float> Reshaped(Tensor<float> g, ReadOnlySpan<int> shape)
    {
        var view = g.Reshape(shape);
        g.Dispose();
        return view;
    }

    private static Node[] TopologicalOrder(ModelGraph graph)
    {
        var available = new HashSet<string>(graph.Initializers.Keys);
        foreach (var i in graph.Inputs) available.Add(i.Name);
        var pending = graph.Nodes.ToList();
        var order = new List<Node>(pending.Count);
        while (pending.Count > 0)
        {
            var progressed = false;
            for (var i = 0; i < pending.Count; i++)
            {
                var n = pending[i];
                if (!n.Inputs.All(x => x.Length == 0 || available.Contains(x))) continue;
                order.Add(n);
                foreach (var o in n.Outputs)
                    if (o.Length > 0) available.Add(o);
                pending.RemoveAt(i);
                i--;
                progressed = true;
            }
            if (!progressed)
                throw new ModelException($"node {pending[0].DisplayName}: its inputs are never produced (the graph has a cycle or a missing value).");
        }
        return order.ToArray();
    }
}

/// <summary>The values of one forward pass, kept for the backward pass; dispose to free them.</summary>
public sealed class ForwardPass : IDisposable
{
    private readonly TrainingGraph _graph;
    private readonly List<Tensor> _owned;
    private bool _disposed;

    internal ForwardPass(TrainingGraph graph, Dictionary<string, Tensor> values, List<Tensor> owned)
    {
        _graph = graph;
        Values = values;
        _owned = owned;
    }

    internal Dictionary<string, Tensor> Values { get; }

    /// <summary>A value computed by the pass (owned by the pass).</summary>
    public Tensor Value(string name) =>
        Values.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"'{name}' is not a value of the graph.");

    /// <summary>A float value computed by the pass (owned by the pass).</summary>
    public Tensor<float> FloatValue(string name) =>
        Value(name) as Tensor<float> ?? throw new InvalidOperationException($"'{name}' is not float32.");

    /// <summary>Back-propagates the given gradients (of the loss with respect to these values) into the parameters' gradients.</summary>
    public void Backward(IReadOnlyDictionary<string, Tensor<float>> gradients)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _graph.Backward(this, gradients);
    }

    /// <summary>Back-propagates the gradient of one value.</summary>
    public void Backward(string name, Tensor<float> gradient) =>
        Backward(new Dictionary<string, Tensor<float>> { [name] = gradient });

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _owned) t.Dispose();
    }
}
