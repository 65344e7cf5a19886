using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Training.Backward;

/// <summary>
/// Gelu (opset 20): exact, Φ(x) + x φ(x), or with approximate="tanh" the derivative of
/// 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))).
/// </summary>
[BackwardRule("Gelu")]
internal sealed class GeluRule : UnaryRule
{
    private readonly bool _tanh;

    /// <summary>Compiles the rule.</summary>
    public GeluRule(Node node, OperatorContext context) : base(node) => _tanh = node.GetString("approximate", "none") == "tanh";

    /// <summary>d/dx of the exact (erf) Gelu.</summary>
    public static float ExactDerivative(float x)
    {
        var cdf = 0.5 * (1 + ErfKernel.Erf((float)(x / Math.Sqrt(2))));
        var pdf = Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
        return (float)(cdf + x * pdf);
    }

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (!_tanh)
        {
            for (var i = 0; i < dx.Length; i++) dx[i] = dy[i] * ExactDerivative(x[i]);
            return;
        }
        var c = Math.Sqrt(2 / Math.PI);
        for (var i = 0; i < dx.Length; i++)
        {
            double v = x[i];
            var inner = c * (v + 0.044715 * v * v * v);
            var t = Math.Tanh(inner);
            var d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v);
            dx[i] = (float)(dy[i] * d);
        }
    }
}
