using Sparrow.Runtime.Operators;

namespace Sparrow.Runtime.Tests.Operators;

/// <summary>The fused scale + mask + softmax row kernel of Attention against a double-precision reference, at every vector width.</summary>
public class SoftmaxKernelTests
{
    public static TheoryData<int> Widths() => new() { 512, 256, 128, 0 };

    private static double[] Reference(float[] row, float factor, float[]? maskRow, float maskValue)
    {
        var x = new double[row.Length];
        for (var i = 0; i < x.Length; i++) x[i] = (double)row[i] * factor + (maskRow is null ? maskValue : maskRow[i]);
        var max = x.Length == 0 ? 0 : x.Max();
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++) sum += x[i] = Math.Exp(x[i] - max);
        for (var i = 0; i < x.Length; i++) x[i] /= sum;
        return x;
    }

    private static void Check(float[] actual, double[] expected, string what)
    {
        for (var i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 2e-6 * expected[i] + 1e-9,
                $"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_length_from_0_to_300_with_each_kind_of_mask(int width)
    {
        if (width > SoftmaxKernel.PreferredWidth) return; // not accelerated here: the vector type would be emulated
        var random = new Random(21);
        for (var n = 0; n <= 300; n++)
        for (var kind = 0; kind < 3; kind++)
        {
            var row = new float[n];
            for (var i = 0; i < n; i++) row[i] = (float)(random.NextDouble() * 40 - 20);
            var maskRow = kind == 1 ? Enumerable.Range(0, n).Select(i => i % 7 == 3 ? -10000f : (float)random.NextDouble()).ToArray() : null;
            var maskValue = kind == 2 ? -3.5f : 0f;
            var factor = kind == 0 ? 1f : 0.125f;
            var expected = Reference(row, factor, maskRow, maskValue);
            SoftmaxKernel.ScaleMaskSoftmax(row, factor, maskRow, maskValue, width);
            Check(row, expected, $"n={n} kind={kind} width={width}");
            if (n > 0) Assert.InRange(row.Sum(), 1 - 1e-5, 1 + 1e-5);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Exp_is_accurate_over_its_whole_range(int width)
    {
        if (width > SoftmaxKernel.PreferredWidth) return;
        // Two elements, 0 and x: softmax gives 1/(1 + e^x) and e^x/(1 + e^x), so the second is e^x to within rounding for x ≪ 0.
        for (var x = -87f; x <= 0; x += 0.173f)
        {
            var row = new[] { 0f, x };
            SoftmaxKernel.ScaleMaskSoftmax(row, 1f, default, 0f, width);
            var expected = Math.Exp(x) / (1 + Math.Exp(x));
            Assert.True(Math.Abs(row[1] - expected) <= 4e-7 * expected, $"x={x}: {row[1]} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Infinite_mask_gives_zero_weight_and_nan_spreads_over_the_row(int width)
    {
        if (width > SoftmaxKernel.PreferredWidth) return;
        var row = Enumerable.Range(0, 37).Select(i => i * 0.1f).ToArray();
        var mask = Enumerable.Range(0, 37).Select(i => i >= 20 ? float.NegativeInfinity : 0f).ToArray();
        SoftmaxKernel.ScaleMaskSoftmax(row, 1f, mask, 0f, width);
        Assert.All(row[20..], v => Assert.True(v < 1e-30f, $"{v}"));
        Check(row[..20], Reference(Enumerable.Range(0, 20).Select(i => i * 0.1f).ToArray(), 1f, null, 0f), "unmasked part");

        var withNaN = Enumerable.Range(0, 37).Select(i => i == 30 ? float.NaN : 1f).ToArray();
        SoftmaxKernel.ScaleMaskSoftmax(withNaN, 1f, default, 0f, width);
        Assert.All(withNaN, v => Assert.True(float.IsNaN(v)));

        var allMasked = new float[19];
        SoftmaxKernel.ScaleMaskSoftmax(allMasked, 1f, default, float.NegativeInfinity, width);
        Assert.All(allMasked, v => Assert.True(float.IsNaN(v))); // as the element-wise form gives: -inf - -inf
    }

    [Fact]
    public void A_mask_row_of_the_wrong_length_is_an_error() =>
        Assert.Throws<ArgumentException>(() => SoftmaxKernel.ScaleMaskSoftmax(new float[4], 1f, new float[3], 0f));
}
