using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Sub: dA = dY, dB = −dY.</summary>
[BackwardRule("Sub")]
internal sealed class SubRule : BinaryRule
{
    /// <summary>Compiles the rule.</summary>
    public SubRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Gradient(int operand, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> result)
    {
        if (operand == 0) dy.CopyTo(result);
        else TensorPrimitives.Negate(dy, result);
    }
}
