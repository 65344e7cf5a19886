using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>What an operator may know when it is compiled: the opset, the constant inputs, the session's options.</summary>
public sealed class OperatorContext
{
    public const string SparrowDomain = "ai.sparrow";

    internal OperatorContext(Model model, SessionOptions options)
    {
        Model = model;
        Options = options;
    }

    public Model Model { get; }

    public SessionOptions Options { get; }

    /// <summary>The default-domain opset of the model.</summary>
    public long Opset => Model.Opset;

    /// <summary>The constant tensor behind a value name, when it is an initializer.</summary>
    public Tensor? Constant(string name) =>
        name.Length > 0 && Model.Graph.Initializers.TryGetValue(name, out var t) ? t : null;
}
