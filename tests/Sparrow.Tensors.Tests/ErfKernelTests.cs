using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests;

public class ErfKernelTests
{
    private static readonly int[] Widths = { 512, 256, 128 };

    /// <summary>
    /// erf in double, for the tests only: erf(x) = 2/√π·e^(-x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)). Every term is
    /// positive, so there is no cancellation, and the sum is accurate to about 1e-15 for |x| &lt; 6; beyond 6,
    /// erf is ±1 in double.
    /// </summary>
    internal static double ReferenceErf(double x)
    {
        if (double.IsNaN(x)) return x;
        var a = Math.Abs(x);
        if (a >= 6) return Math.CopySign(1.0, x);
        double x2 = a * a, term = a, sum = a;
        for (var n = 1; n < 1000 && term > 1e-18 * sum; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return Math.CopySign(2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum, x);
    }

    /// <summary>erfc(x) for x ≥ 1 from its continued fraction, which keeps relative accuracy where erfc is tiny.</summary>
    private static double ReferenceErfc(double x)
    {
        if (x < 1) return 1 - ReferenceErf(x);
        var fraction = x;
        for (var k = 400; k >= 1; k--) fraction = x + k / 2.0 / fraction;
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / fraction;
    }

    private static double ReferenceGelu(double x)
    {
        var z = x / Math.Sqrt(2);
        var onePlusErf = z < 0 ? ReferenceErfc(-z) : 1 + ReferenceErf(z);
        return 0.5 * x * onePlusErf;
    }

    private static double ReferenceGeluTanh(double x) =>
        0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>Grid points over [-limit, limit] plus random points, all as floats.</summary>
    private static float[] Samples(float limit, int grid, int random, int seed)
    {
        var rng = new Random(seed);
        var values = new float[grid + random];
        for (var i = 0; i < grid; i++) values[i] = -limit + 2 * limit * i / (grid - 1);
        for (var i = 0; i < random; i++) values[grid + i] = (float)((rng.NextDouble() * 2 - 1) * limit);
        return values;
    }

    [Fact]
    public void Erf_is_within_1e7_of_a_double_reference_at_every_width()
    {
        var x = Samples(7f, 200_001, 100_000, seed: 1);
        foreach (var width in Widths)
        {
            var y = new float[x.Length];
            ErfKernel.ApplyAtWidth("Erf", x, y, width);
            double worst = 0;
            var at = 0f;
            for (var i = 0; i < x.Length; i++)
            {
                var error = Math.Abs(y[i] - ReferenceErf(x[i]));
                if (error > worst) { worst = error; at = x[i]; }
            }
            Assert.True(worst <= 1e-7, $"width {width}: max abs error {worst:E3} at x = {at}");
        }
    }

    [Fact]
    public void Erf_is_accurate_on_every_float_near_the_branch_point()
    {
        // Around |x| = 1 the kernel switches from the series fit to the erfc fit.
        var x = new List<float>();
        for (var v = 0.99f; v <= 1.01f; v = MathF.BitIncrement(v)) { x.Add(v); x.Add(-v); }
        var y = new float[x.Count];
        ErfKernel.Apply(x.ToArray(), y);
        for (var i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - ReferenceErf(x[i])) <= 1e-7, $"erf({x[i]:R}) = {y[i]:R}");
    }

    [Fact]
    public void Erf_keeps_relative_accuracy_for_tiny_inputs()
    {
        foreach (var v in new[] { 1e-30f, 1e-20f, 3e-10f, 1e-5f, -2e-7f, float.Epsilon * 1e6f })
        {
            var expected = ReferenceErf(v);
            Assert.True(Math.Abs(ErfKernel.Erf(v) - expected) <= 2e-7 * Math.Abs(expected), $"erf({v:R}) = {ErfKernel.Erf(v):R}, expected {expected:R}");
        }
    }

    [Fact]
    public void Erf_special_values()
    {
        Assert.True(float.IsNaN(ErfKernel.Erf(float.NaN)));
        Assert.Equal(1f, ErfKernel.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, ErfKernel.Erf(float.NegativeInfinity));
        Assert.Equal(1f, ErfKernel.Erf(1e30f));
        Assert.Equal(-1f, ErfKernel.Erf(-4.5f));
        Assert.Equal(0f, ErfKernel.Erf(0f));
        Assert.True(float.IsNegative(ErfKernel.Erf(-0f)), "erf(-0) keeps the sign of zero");
    }

    [Fact]
    public void Erf_is_odd_bit_for_bit()
    {
        foreach (var v in Samples(6f, 20_001, 0, seed: 2))
            Assert.Equal(-ErfKernel.Erf(v), ErfKernel.Erf(-v));
    }

    [Theory]
    [InlineData("Erf")]
    [InlineData("Gelu")]
    [InlineData("GeluTanh")]
    public void Every_length_gives_the_same_value_per_element_and_writes_nothing_past_the_end(string function)
    {
        var source = Samples(8f, 0, 300, seed: 3);
        var single = new float[source.Length];
        ErfKernel.ApplyAtWidth(function, source, single, ErfKernel.PreferredWidth);
        foreach (var width in Widths)
            for (var length = 0; length <= source.Length; length++)
            {
                var destination = new float[length + 3];
                Array.Fill(destination, float.NaN);
                ErfKernel.ApplyAtWidth(function, source.AsSpan(0, length), destination, width);
                for (var i = 0; i < length; i++)
                {
                    // The same algorithm in every lane: widths agree to the last bit except through Exp, where
                    // the runtime's vector Exp may differ by an ulp between widths.
                    if (width == ErfKernel.PreferredWidth) Assert.Equal(single[i], destination[i]);
                    else Assert.True(Math.Abs(single[i] - destination[i]) <= 1e-7 * Math.Max(1, Math.Abs(source[i])),
                        $"{function} width {width} length {length} element {i}");
                }
                for (var i = length; i < destination.Length; i++) Assert.True(float.IsNaN(destination[i]), $"wrote past the end at {i}");
            }
    }

    [Fact]
    public void Apply_works_in_place()
    {
        var x = Samples(5f, 0, 77, seed: 4);
        var expected = new float[x.Length];
        ErfKernel.Apply(x, expected);
        ErfKernel.Apply(x, x);
        Assert.Equal(expected, x);
    }

    [Fact]
    public void Apply_rejects_a_short_destination()
    {
        var error = Assert.Throws<ArgumentException>(() => ErfKernel.Apply(new float[5], new float[4]));
        Assert.Contains("fewer", error.Message);
    }

    [Fact]
    public void Scalar_erf_matches_the_span_version_bit_for_bit()
    {
        var x = Samples(6f, 0, 1000, seed: 5);
        var y = new float[x.Length];
        ErfKernel.Apply(x, y);
        for (var i = 0; i < x.Length; i++) Assert.Equal(y[i], ErfKernel.Erf(x[i]));
    }

    [Fact]
    public void Gelu_is_within_float_rounding_of_a_double_reference_at_every_width()
    {
        var x = Samples(12f, 100_001, 50_000, seed: 6);
        foreach (var width in Widths)
        {
            var y = new float[x.Length];
            ErfKernel.ApplyAtWidth("Gelu", x, y, width);
            for (var i = 0; i < x.Length; i++)
            {
                var expected = ReferenceGelu(x[i]);
                Assert.True(Math.Abs(y[i] - expected) <= 1e-7 + 1.2e-7 * Math.Abs(expected),
                    $"width {width}: gelu({x[i]:R}) = {y[i]:R}, expected {expected:R}");
            }
        }
    }

    [Fact]
    public void Gelu_special_values()
    {
        Assert.True(float.IsNaN(ErfKernel.Gelu(float.NaN)));
        Assert.Equal(float.PositiveInfinity, ErfKernel.Gelu(float.PositiveInfinity));
        Assert.Equal(0f, ErfKernel.Gelu(-100f));
        Assert.Equal(0f, ErfKernel.Gelu(0f));
        Assert.Equal(50f, ErfKernel.Gelu(50f));
        Assert.Equal(ReferenceGelu(1.0), ErfKernel.Gelu(1f), 1e-7);
    }

    [Fact]
    public void GeluTanh_matches_a_double_reference()
    {
        var x = Samples(12f, 50_001, 20_000, seed: 7);
        var y = new float[x.Length];
        ErfKernel.GeluTanh(x, y);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = ReferenceGeluTanh(x[i]);
            Assert.True(Math.Abs(y[i] - expected) <= 2e-7 + 2.5e-7 * Math.Abs(expected),
                $"gelu_tanh({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
        Assert.Equal(0f, ErfKernel.GeluTanh(-100f));
        Assert.Equal(100f, ErfKernel.GeluTanh(100f));
    }
}
