using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Pow: dA = dY·B·A^(B−1), dB = dY·A^B·ln A (defined for A &gt; 0).</summary>
[BackwardRule("Pow")]
internal sealed class PowRule : BinaryRule
{
    /// <summary>Compiles the rule.</summary>
    public PowRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Gradient(int operand, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> result)
    {
        if (operand == 0)
            for (var i = 0; i < result.Length; i++)
                result[i] = b[i] == 2f ? 2f * a[i] * dy[i] : (float)(dy[i] * b[i] * Math.Pow(a[i], b[i] - 1.0));
        else
            for (var i = 0; i < result.Length; i++)
                result[i] = a[i] > 0f ? (float)(dy[i] * Math.Pow(a[i], b[i]) * Math.Log(a[i])) : 0f;
    }
}
