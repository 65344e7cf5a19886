using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Div: dA = dY / B, dB = −dY·A / B².</summary>
[BackwardRule("Div")]
internal sealed class DivRule : BinaryRule
{
    /// <summary>Compiles the rule.</summary>
    public DivRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Gradient(int operand, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> result)
    {
        if (operand == 0)
            for (var i = 0; i < result.Length; i++) result[i] = dy[i] / b[i];
        else
            for (var i = 0; i < result.Length; i++) result[i] = -dy[i] * a[i] / (b[i] * b[i]);
    }
}
