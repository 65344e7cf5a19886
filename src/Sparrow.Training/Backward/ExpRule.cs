using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Exp: y.</summary>
[BackwardRule("Exp")]
internal sealed class ExpRule : UnaryRule
{
    /// <summary>Compiles the rule.</summary>
    public ExpRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < dx.Length; i++) dx[i] = dy[i] * y[i];
    }
}
