using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Tanh: 1 − y².</summary>
[BackwardRule("Tanh")]
internal sealed class TanhRule : UnaryRule
{
    /// <summary>Compiles the rule.</summary>
    public TanhRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < dx.Length; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
    }
}
