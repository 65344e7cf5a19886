using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

public sealed class ErfTests
{
    // Tabulated values of erf to 19 digits.
    [Theory]
    [InlineData(0.1, 0.1124629160182848922)]
    [InlineData(0.5, 0.5204998778130465377)]
    [InlineData(1.0, 0.8427007929497148693)]
    [InlineData(1.5, 0.9661051464753107271)]
    [InlineData(2.0, 0.9953222650189527342)]
    [InlineData(2.5, 0.9995930479825550411)]
    [InlineData(3.0, 0.9999779095030014146)]
    [InlineData(3.5, 0.9999992569016276586)]
    [InlineData(4.0, 0.9999999845827420997)]
    [InlineData(1e-10, 1.1283791670955126e-10)]
    public void Matches_tabulated_values_and_is_odd(double x, double expected)
    {
        // A few ulps: the interpolant's coefficients carry the rounding of the fit.
        Assert.Equal(expected, ScalarErf.Erf(x), Math.Abs(expected) * 1e-15);
        Assert.Equal(-ScalarErf.Erf(x), ScalarErf.Erf(-x));
    }

    [Fact]
    public void Interpolant_matches_the_slow_reference_on_a_fine_grid()
    {
        var worst = 0.0;
        for (var x = 0.5; x < 6.5; x += 1.0 / 1024 + 1e-7)
            worst = Math.Max(worst, Math.Abs(ScalarErf.Erf(x) - ScalarErf.Reference(x)));
        Assert.True(worst < 1e-15, $"max |error| {worst:E3}");
    }

    [Fact]
    public void Special_values()
    {
        Assert.Equal(0.0, ScalarErf.Erf(0.0));
        Assert.Equal(1.0, ScalarErf.Erf(double.PositiveInfinity));
        Assert.Equal(-1.0, ScalarErf.Erf(double.NegativeInfinity));
        Assert.Equal(1.0, ScalarErf.Erf(7.0));
        Assert.True(double.IsNaN(ScalarErf.Erf(double.NaN)));
    }

    [Fact]
    public void Has_no_jumps_at_interval_edges()
    {
        // Pieces that disagree at an edge would show as a step far larger than the slope over 1e-9.
        for (var edge = 0.5; edge <= 6.0; edge += 0.25)
        {
            var below = ScalarErf.Erf(edge - 1e-9);
            var above = ScalarErf.Erf(edge + 1e-9);
            var slope = 2 / Math.Sqrt(Math.PI) * Math.Exp(-edge * edge) * 2e-9;
            Assert.True(Math.Abs(above - below - slope) < 1e-15, $"step at {edge}: {above - below:E3}, slope predicts {slope:E3}");
        }
    }

    [Fact]
    public void Float_operator_is_correctly_rounded_or_one_ulp_off()
    {
        var random = new Random(5);
        var values = Enumerable.Range(0, 4099).Select(i => (float)(random.NextDouble() * 10 - 5)).ToArray();
        values[0] = 0f;
        values[1] = -0f;
        values[2] = 1e-30f;
        using var x = Tensor<float>.FromArray(values, values.Length);
        using var y = SingleNodeModel.Run("Erf", x);
        var actual = y.As<float>().Span;
        for (var i = 0; i < values.Length; i++)
        {
            var expected = (float)(values[i] < 0.5 && values[i] > -0.5 ? ScalarErf.Erf(values[i]) : Math.CopySign(ScalarErf.Reference(Math.Abs(values[i])), values[i]));
            Assert.True(Math.Abs(actual[i] - expected) <= MathF.BitIncrement(Math.Abs(expected)) - Math.Abs(expected),
                $"erf({values[i]:R}) = {actual[i]:R}, expected {expected:R}");
        }
    }
}
