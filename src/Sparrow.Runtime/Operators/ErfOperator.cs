using System.Numerics;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Erf: the Gauss error function, element-wise (the GELU of BERT-family models).</summary>
/// <remarks>Uses <see cref="ScalarErf"/> until the shared vectorised erf kernel in Sparrow.Tensors lands.</remarks>
[OnnxOperator("Erf")]
public sealed class ErfOperator : Operator
{
    public ErfOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [FloatUnary.Run<Function>(Required(inputs, 0), context, Node.OpType, FloatUnary.TranscendentalMinElementsPerThread)];

    private readonly struct Function : IFloatFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (var i = 0; i < x.Length; i++)
                destination[i] = T.CreateTruncating(ScalarErf.Erf(double.CreateTruncating(x[i])));
        }
    }
}

/// <summary>
/// erf in double precision, within about 1e-15: a Maclaurin series near zero (so that tiny inputs keep full
/// relative accuracy), and beyond it a Chebyshev interpolant per interval of width 1/4, whose coefficients
/// are computed once at start-up from slow but exact-to-rounding formulas. Each interval interpolates
/// erf(x) - erf(midpoint), which is small, so that rounding in the fit stays far below one ulp of the sum.
/// Beyond 6, erf is ±1 to double precision.
/// </summary>
internal static class ScalarErf
{
    private const double SeriesLimit = 0.5;
    private const double Saturation = 6.0;
    private const double IntervalWidth = 0.25;
    private const int Degree = 10;
    private const int SeriesTerms = 14;
    private static readonly double TwoOverSqrtPi = 2.0 / Math.Sqrt(Math.PI);
    private static readonly int IntervalCount = (int)Math.Round((Saturation - SeriesLimit) / IntervalWidth);

    /// <summary>(-1)^n / (n! (2n+1)) · 2/√π: erf(x) = x · Σ c_n x^(2n).</summary>
    private static readonly double[] SeriesCoefficients = BuildSeries();

    /// <summary>Per interval, erf at its midpoint and Degree+1 Chebyshev coefficients (first one halved) of the rest.</summary>
    private static readonly double[] Chebyshev = BuildChebyshev();

    private const int Stride = Degree + 2;

    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        var ax = Math.Abs(x);
        if (ax < SeriesLimit)
        {
            var x2 = x * x;
            var sum = 0.0;
            for (var n = SeriesTerms - 1; n >= 0; n--) sum = sum * x2 + SeriesCoefficients[n];
            return x * sum;
        }
        if (ax >= Saturation) return Math.CopySign(1.0, x);
        var interval = Math.Min((int)((ax - SeriesLimit) / IntervalWidth), IntervalCount - 1);
        var low = SeriesLimit + interval * IntervalWidth;
        var t = (ax - low) * (2.0 / IntervalWidth) - 1.0;
        // Clenshaw's recurrence for Σ c_k T_k(t).
        var midpointValue = Chebyshev[interval * Stride];
        var c = Chebyshev.AsSpan(interval * Stride + 1, Degree + 1);
        double b1 = 0, b2 = 0;
        for (var k = Degree; k >= 1; k--)
        {
            var b0 = 2 * t * b1 - b2 + c[k];
            b2 = b1;
            b1 = b0;
        }
        var value = (t * b1 - b2 + c[0]) + midpointValue;
        return Math.CopySign(value, x);
    }

    private static double[] BuildSeries()
    {
        var coefficients = new double[SeriesTerms];
        var factorial = 1.0;
        for (var n = 0; n < SeriesTerms; n++)
        {
            if (n > 0) factorial *= n;
            coefficients[n] = (n % 2 == 0 ? 1 : -1) * TwoOverSqrtPi / (factorial * (2 * n + 1));
        }
        return coefficients;
    }

    private static double[] BuildChebyshev()
    {
        const int nodes = Degree + 1;
        var coefficients = new double[IntervalCount * (nodes + 1)];
        var values = new double[nodes];
        for (var interval = 0; interval < IntervalCount; interval++)
        {
            var low = SeriesLimit + interval * IntervalWidth;
            var midpointValue = Reference(low + IntervalWidth / 2);
            for (var j = 0; j < nodes; j++)
            {
                var t = Math.Cos(Math.PI * (j + 0.5) / nodes);
                values[j] = Reference(low + (t + 1) * IntervalWidth / 2) - midpointValue;
            }
            var at = interval * (nodes + 1);
            coefficients[at] = midpointValue;
            for (var k = 0; k < nodes; k++)
            {
                var sum = 0.0;
                for (var j = 0; j < nodes; j++) sum += values[j] * Math.Cos(Math.PI * k * (j + 0.5) / nodes);
                coefficients[at + 1 + k] = sum * 2 / nodes * (k == 0 ? 0.5 : 1);
            }
        }
        return coefficients;
    }

    /// <summary>
    /// Slow erf for x ≥ 0, used only to fit the interpolant. Below 1 the series with positive terms,
    /// erf(x) = 2/√π e^(-x²) Σ (2x²)^n x / (1·3·…·(2n+1)), has no cancellation; from 1 on, the continued
    /// fraction for erfc has converged to double precision within 500 terms and keeps 1 - erf accurate.
    /// </summary>
    internal static double Reference(double x)
    {
        if (x < 1)
        {
            var x2 = x * x;
            double term = x, sum = x;
            for (var n = 1; term > 1e-18 * sum; n++)
            {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
            }
            return TwoOverSqrtPi * Math.Exp(-x2) * sum;
        }
        // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail.
        var fraction = x;
        for (var k = 500; k >= 1; k--) fraction = x + k / 2.0 / fraction;
        return 1 - Math.Exp(-x * x) / Math.Sqrt(Math.PI) / fraction;
    }
}
