using System.Numerics;
using System.Runtime.InteropServices;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>Erf: the Gauss error function, element-wise (the GELU of BERT-family models).</summary>
/// <remarks>float32 runs the vectorised <see cref="ErfKernel"/>; float64 and float16 the double-precision <see cref="ScalarErf"/>.</remarks>
[OnnxOperator("Erf")]
internal sealed class ErfOperator : Operator
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
            if (typeof(T) == typeof(float))
            {
                ErfKernel.Apply(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(destination));
                return;
            }
            for (var i = 0; i < x.Length; i++)
                destination[i] = T.CreateTruncating(ScalarErf.Erf(double.CreateTruncating(x[i])));
        }
    }
}

/// <summary>
/// erf in double precision, within about 1e-15: a Maclaurin series near zero (so that tiny inputs keep full
/// relative accuracy), and beyond it a polynomial per interval of width 1/4, each fitted once at start-up
/// by Chebyshev interpolation of slow but exact-to-rounding formulas and then rewritten in powers of the
/// local variable so that evaluation is a chain of fused multiply-adds. Each interval fits
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

    /// <summary>Per interval: erf at its midpoint, then the Degree+1 coefficients of the rest in powers of t.</summary>
    private const int Stride = Degree + 2;

    private static readonly double TwoOverSqrtPi = 2.0 / Math.Sqrt(Math.PI);
    private static readonly int IntervalCount = (int)Math.Round((Saturation - SeriesLimit) / IntervalWidth);

    /// <summary>(-1)^n / (n! (2n+1)) · 2/√π: erf(x) = x · Σ c_n x^(2n).</summary>
    private static readonly double[] SeriesCoefficients = BuildSeries();

    private static readonly double[] IntervalPolynomials = BuildIntervalPolynomials();

    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        var ax = Math.Abs(x);
        if (ax < SeriesLimit)
        {
            var x2 = x * x;
            var series = SeriesCoefficients;
            var sum = series[SeriesTerms - 1];
            for (var n = SeriesTerms - 2; n >= 0; n--) sum = Math.FusedMultiplyAdd(sum, x2, series[n]);
            return x * sum;
        }
        if (ax >= Saturation) return Math.CopySign(1.0, x);
        var interval = Math.Min((int)((ax - SeriesLimit) * (1 / IntervalWidth)), IntervalCount - 1);
        var t = (ax - (SeriesLimit + interval * IntervalWidth)) * (2.0 / IntervalWidth) - 1.0;
        var c = IntervalPolynomials.AsSpan(interval * Stride, Stride);
        var p = c[Stride - 1];
        for (var k = Stride - 2; k >= 1; k--) p = Math.FusedMultiplyAdd(p, t, c[k]);
        return Math.CopySign(p + c[0], x);
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

    private static double[] BuildIntervalPolynomials()
    {
        const int nodes = Degree + 1;
        var table = new double[IntervalCount * Stride];
        var values = new double[nodes];
        var chebyshev = new double[nodes];
        for (var interval = 0; interval < IntervalCount; interval++)
        {
            var low = SeriesLimit + interval * IntervalWidth;
            var midpointValue = Reference(low + IntervalWidth / 2);
            for (var j = 0; j < nodes; j++)
            {
                var t = Math.Cos(Math.PI * (j + 0.5) / nodes);
                values[j] = Reference(low + (t + 1) * IntervalWidth / 2) - midpointValue;
            }
            // Interpolation at the Chebyshev nodes: c_k = 2/N Σ f(t_j) T_k(t_j), with c_0 halved.
            for (var k = 0; k < nodes; k++)
            {
                var sum = 0.0;
                for (var j = 0; j < nodes; j++) sum += values[j] * Math.Cos(Math.PI * k * (j + 0.5) / nodes);
                chebyshev[k] = sum * 2 / nodes * (k == 0 ? 0.5 : 1);
            }
            table[interval * Stride] = midpointValue;
            ChebyshevToPowers(chebyshev, table.AsSpan(interval * Stride + 1, nodes));
        }
        return table;
    }

    /// <summary>Rewrites Σ c_k T_k(t) as Σ m_j t^j, using T_(k+1) = 2t T_k - T_(k-1).</summary>
    private static void ChebyshevToPowers(ReadOnlySpan<double> chebyshev, Span<double> powers)
    {
        var n = chebyshev.Length;
        var previous = new double[n];
        var current = new double[n];
        previous[0] = 1; // T_0
        if (n > 1) current[1] = 1; // T_1
        powers.Clear();
        powers[0] += chebyshev[0];
        for (var j = 0; j < n && n > 1; j++) powers[j] += chebyshev[1] * current[j];
        for (var k = 2; k < n; k++)
        {
            var next = new double[n];
            for (var j = 0; j < n; j++) next[j] = (j > 0 ? 2 * current[j - 1] : 0) - previous[j];
            for (var j = 0; j < n; j++) powers[j] += chebyshev[k] * next[j];
            previous = current;
            current = next;
        }
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
