using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Relu: the gradient passes where x &gt; 0.</summary>
[BackwardRule("Relu")]
internal sealed class ReluRule : UnaryRule
{
    /// <summary>Compiles the rule.</summary>
    public ReluRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < dx.Length; i++) dx[i] = x[i] > 0f ? dy[i] : 0f;
    }
}
