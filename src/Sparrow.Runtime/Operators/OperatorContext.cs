using Sparrow.Graph;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>What an operator may know when it is compiled: the opset, the constant inputs, the session's options.</summary>
internal sealed class OperatorContext
{
    public const string SparrowDomain = "ai.sparrow";

    private readonly HashSet<(Node Node, int Input)> _ownedInputs = new();
    private readonly HashSet<string> _graphInputs;

    internal OperatorContext(Model model, SessionOptions options, WeightKernelSelector? weightKernels = null)
    {
        Model = model;
        Options = options;
        WeightKernels = weightKernels;
        _graphInputs = new HashSet<string>(model.Graph.Inputs.Select(i => i.Name));
    }

    public Model Model { get; }

    public SessionOptions Options { get; }

    /// <summary>The default-domain opset of the model.</summary>
    public long Opset => Model.Opset;

    /// <summary>Chooses weight formats when a session is built; null while constant folding (one run, nothing to prepare).</summary>
    internal WeightKernelSelector? WeightKernels { get; }

    /// <summary>The constant tensor behind a value name, when it is an initializer.</summary>
    public Tensor? Constant(string name) =>
        name.Length > 0 && Model.Graph.Initializers.TryGetValue(name, out var t) ? t : null;

    /// <summary>
    /// The constant behind an input that no caller can override (an initializer that is not also a graph input),
    /// so that an operator may keep its own form of it and stop reading it.
    /// </summary>
    internal Tensor? FixedConstant(string name) => _graphInputs.Contains(name) ? null : Constant(name);

    /// <summary>
    /// The operator keeps its own form of this constant input and will not read it at run time (it gets null
    /// there), so that the session can release the tensor when no other reader needs it.
    /// </summary>
    internal void OwnInput(Node node, int input) => _ownedInputs.Add((node, input));

    internal bool OwnsInput(Node node, int input) => _ownedInputs.Contains((node, input));
}
