using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Sqrt: 1 / (2 y).</summary>
[BackwardRule("Sqrt")]
internal sealed class SqrtRule : UnaryRule
{
    /// <summary>Compiles the rule.</summary>
    public SqrtRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < dx.Length; i++) dx[i] = dy[i] * 0.5f / y[i];
    }
}
