using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Sigmoid: y (1 − y).</summary>
[BackwardRule("Sigmoid")]
internal sealed class SigmoidRule : UnaryRule
{
    /// <summary>Compiles the rule.</summary>
    public SigmoidRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < dx.Length; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
    }
}
