using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Mul: dA = dY·B, dB = dY·A.</summary>
[BackwardRule("Mul")]
internal sealed class MulRule : BinaryRule
{
    /// <summary>Compiles the rule.</summary>
    public MulRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Gradient(int operand, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> result) =>
        TensorPrimitives.Multiply(dy, operand == 0 ? b : a, result);
}
