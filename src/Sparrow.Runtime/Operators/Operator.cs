using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// One compiled node. Attributes are read once in the constructor; <see cref="Run"/> must be thread-safe
/// (a session may run on many threads at once), so operators keep no per-run state in fields.
/// Outputs are new tensors owned by the caller; to pass an input through, return a view (<c>Reshape</c>).
/// </summary>
internal abstract class Operator
{
    protected Operator(Node node) => Node = node;

    public Node Node { get; }

    public abstract Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context);

    /// <summary>A required input, with an error naming it when it is absent.</summary>
    protected Tensor Required(ReadOnlySpan<Tensor?> inputs, int index) =>
        index < inputs.Length && inputs[index] is { } t ? t
            : throw new InvalidOperationException($"input {index} is required but missing.");

    protected static Tensor? Optional(ReadOnlySpan<Tensor?> inputs, int index) =>
        index < inputs.Length ? inputs[index] : null;

    /// <summary>The float view of an input, with an error naming the element type when it is not float32.</summary>
    protected Tensor<float> RequiredFloat(ReadOnlySpan<Tensor?> inputs, int index)
    {
        var t = Required(inputs, index);
        return t as Tensor<float> ?? throw new NotSupportedException(
            $"input {index} is {DataTypes.Name(t.ElementType)}, which is not supported here (float32 only).");
    }
}
