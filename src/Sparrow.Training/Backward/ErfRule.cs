using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Erf: 2/√π · exp(−x²).</summary>
[BackwardRule("Erf")]
internal sealed class ErfRule : UnaryRule
{
    private const double TwoOverSqrtPi = 1.1283791670955126;

    /// <summary>Compiles the rule.</summary>
    public ErfRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < dx.Length; i++) dx[i] = dy[i] * (float)(TwoOverSqrtPi * Math.Exp(-(double)x[i] * x[i]));
    }
}
