using System.Runtime.Intrinsics;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

public class SparseInputGemvTests
{
    public static TheoryData<int> Widths()
    {
        var widths = new TheoryData<int> { 1 };
        if (Vector128.IsHardwareAccelerated) widths.Add(4);
        if (Vector256.IsHardwareAccelerated) widths.Add(8);
        if (Vector512.IsHardwareAccelerated) widths.Add(16);
        return widths;
    }

    /// <summary>
    /// Sizes around every vector width (tails of 1..15 and the four-column groups' remainders), sparsities 0, 50,
    /// 90 and 100%, with and without bias; compared in double precision with a tolerance scaled by the magnitudes.
    /// </summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void MatchesNaiveReferenceOverSizesAndSparsities(int width)
    {
        var random = new Random(8_4);
        int[] inputs = [1, 2, 3, 4, 5, 7, 9, 16, 17, 33, 64, 129];
        int[] outputs = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 64, 65, 130, 200, 257];
        double[] sparsities = [0, 0.5, 0.9, 1.0];
        var checks = 0;
        foreach (var k in inputs)
        foreach (var n in outputs)
        foreach (var sparsity in sparsities)
        foreach (var withBias in new[] { false, true })
        {
            var x = new float[k];
            var w = new float[k * n];
            for (var i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1);
            // Magnitudes in (0.5, 1.5] keep; those in [0, 0.5] are at or under the threshold.
            const float threshold = 0.5f;
            for (var p = 0; p < k; p++)
            {
                var sign = random.Next(2) == 0 ? -1f : 1f;
                x[p] = random.NextDouble() < sparsity ? sign * (float)(random.NextDouble() * threshold) : sign * (threshold + 0.01f + (float)random.NextDouble());
            }
            var bias = withBias ? Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray() : [];
            var y = Enumerable.Repeat(float.NaN, n).ToArray(); // every element must be written
            var kept = SparseInputGemv.Multiply(x, w, y, bias, threshold, FusedActivation.None, width);

            Assert.Equal(x.Count(v => MathF.Abs(v) > threshold), kept);
            for (var j = 0; j < n; j++)
            {
                double expected = withBias ? bias[j] : 0, magnitude = Math.Abs(expected);
                for (var p = 0; p < k; p++)
                {
                    if (MathF.Abs(x[p]) <= threshold) continue;
                    expected += (double)x[p] * w[p * n + j];
                    magnitude += Math.Abs((double)x[p] * w[p * n + j]);
                }
                Assert.True(Math.Abs(y[j] - expected) <= 1e-5 * (magnitude + 1),
                    $"k={k} n={n} sparsity={sparsity} bias={withBias} width={width}: y[{j}] = {y[j]}, expected {expected}");
            }
            checks++;
        }
        Assert.Equal(inputs.Length * outputs.Length * sparsities.Length * 2, checks);
    }

    [Fact]
    public void ZeroThresholdSkipsOnlyZerosAndEqualsTheDenseProduct()
    {
        var random = new Random(3);
        const int k = 300, n = 70;
        var x = new float[k];
        for (var p = 0; p < k; p++) x[p] = p % 3 == 0 ? 0f : (float)(random.NextDouble() - 0.5);
        var w = Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var y = new float[n];
        var reference = new float[n];
        Assert.Equal(k - 100, SparseInputGemv.Multiply(x, w, y, [], 0f));
        SparseInputGemv.Reference(x, w, reference, [], 0f);
        for (var j = 0; j < n; j++) Assert.Equal(reference[j], y[j], 4);
    }

    [Fact]
    public void AppliesTheFusedActivationAfterTheBias()
    {
        float[] x = [1f, 0.1f];
        float[] w = [1f, -2f, 100f, 100f]; // [2, 2]: the second input is under the threshold
        float[] bias = [0.5f, 0.5f];
        var y = new float[2];
        SparseInputGemv.Multiply(x, w, y, bias, 0.2f, FusedActivation.Relu);
        Assert.Equal([1.5f, 0f], y);
    }

    [Fact]
    public void RejectsAWeightTooSmallAndANegativeThreshold()
    {
        var y = new float[3];
        Assert.Throws<ArgumentException>(() => SparseInputGemv.Multiply(new float[2], new float[5], y, [], 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseInputGemv.Multiply(new float[2], new float[6], y, [], -1f));
    }

    /// <summary>
    /// The packed form (aligned panels of four vectors, the runtime's path) at every vector width, over sizes around
    /// the panel widths (partial last panels of every length), sparsities 0, 50, 90 and 100% (the 4-, 2- and 1-input
    /// steps and their tails), with and without bias, NaN-prefilled outputs; compared in double precision.
    /// </summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void PackedFormMatchesNaiveReferenceOverSizesAndSparsities(int width)
    {
        var random = new Random(8_5);
        int[] inputs = [1, 2, 3, 4, 5, 7, 9, 16, 17, 31, 33, 64, 129];
        int[] outputs = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 128, 130, 200, 257];
        double[] sparsities = [0, 0.5, 0.9, 1.0];
        var checks = 0;
        foreach (var k in inputs)
        foreach (var n in outputs)
        foreach (var sparsity in sparsities)
        foreach (var withBias in new[] { false, true })
        {
            var (x, w, bias) = RandomProblem(random, k, n, sparsity, withBias, threshold: 0.5f);
            var packed = SparseInputWeight.Pack(w, k, n, width);
            Assert.Equal(k, packed.Inputs);
            Assert.Equal(n, packed.Outputs);
            var y = Enumerable.Repeat(float.NaN, n).ToArray(); // every element must be written
            var kept = SparseInputGemv.Multiply(x, packed, y, bias, 0.5f);

            Assert.Equal(x.Count(v => MathF.Abs(v) > 0.5f), kept);
            AssertMatchesReference(x, w, bias, 0.5f, y, $"k={k} n={n} sparsity={sparsity} bias={withBias} width={width}");
            checks++;
        }
        Assert.Equal(inputs.Length * outputs.Length * sparsities.Length * 2, checks);
    }

    /// <summary>More than 1024 inputs take pooled buffers instead of the stack; a NaN or infinite input above the threshold is kept (as the reference keeps it), a NaN one is dropped.</summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void PackedFormHandlesManyInputsAndKeepsOrDropsNonFiniteInputsLikeTheReference(int width)
    {
        var random = new Random(11);
        const int k = 1500, n = 37;
        var (x, w, bias) = RandomProblem(random, k, n, 0.5, true, threshold: 0.5f);
        var y = Enumerable.Repeat(float.NaN, n).ToArray();
        Assert.Equal(x.Count(v => MathF.Abs(v) > 0.5f), SparseInputGemv.Multiply(x, SparseInputWeight.Pack(w, k, n, width), y, bias, 0.5f));
        AssertMatchesReference(x, w, bias, 0.5f, y, $"k={k} width={width}");

        float[] special = [float.NaN, 2f, 0.1f];
        float[] weight = [1f, 1f, 1f, 1f, 1f, 1f]; // [3, 2]
        var out2 = new float[2];
        Assert.Equal(1, SparseInputGemv.Multiply(special, SparseInputWeight.Pack(weight, 3, 2, width), out2, [], 0.5f));
        Assert.Equal([2f, 2f], out2);
        special[0] = float.PositiveInfinity;
        Assert.Equal(2, SparseInputGemv.Multiply(special, SparseInputWeight.Pack(weight, 3, 2, width), out2, [], 0.5f));
        Assert.Equal([float.PositiveInfinity, float.PositiveInfinity], out2);
    }

    [Fact]
    public void PackedFormAppliesTheFusedActivationAfterTheBiasAndChecksItsArguments()
    {
        float[] x = [1f, 0.1f];
        var w = SparseInputWeight.Pack([1f, -2f, 100f, 100f], 2, 2); // the second input is under the threshold
        var y = new float[2];
        SparseInputGemv.Multiply(x, w, y, [0.5f, 0.5f], 0.2f, FusedActivation.Relu);
        Assert.Equal([1.5f, 0f], y);

        Assert.Throws<ArgumentException>(() => SparseInputGemv.Multiply(new float[3], w, y, [], 0f));
        Assert.Throws<ArgumentException>(() => SparseInputGemv.Multiply(x, w, new float[3], [], 0f));
        Assert.Throws<ArgumentException>(() => SparseInputGemv.Multiply(x, w, y, [1f], 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseInputGemv.Multiply(x, w, y, [], float.NaN));
        Assert.Throws<ArgumentException>(() => SparseInputWeight.Pack(new float[5], 2, 3));
        Assert.Throws<ArgumentException>(() => SparseInputWeight.Pack(Tensor<float>.FromArray(new float[6], [6])));
        Assert.True(SparseInputWeight.Pack(new float[6], 2, 3).ByteCount >= 6 * sizeof(float));
    }

    private static (float[] X, float[] W, float[] Bias) RandomProblem(Random random, int k, int n, double sparsity, bool withBias, float threshold)
    {
        var x = new float[k];
        var w = new float[k * n];
        for (var i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1);
        // Magnitudes in (threshold, threshold + 1] keep; those in [0, threshold] are at or under the threshold.
        for (var p = 0; p < k; p++)
        {
            var sign = random.Next(2) == 0 ? -1f : 1f;
            x[p] = random.NextDouble() < sparsity ? sign * (float)(random.NextDouble() * threshold) : sign * (threshold + 0.01f + (float)random.NextDouble());
        }
        var bias = withBias ? Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray() : [];
        return (x, w, bias);
    }

    private static void AssertMatchesReference(float[] x, float[] w, float[] bias, float threshold, float[] y, string what)
    {
        int k = x.Length, n = y.Length;
        for (var j = 0; j < n; j++)
        {
            double expected = bias.Length > 0 ? bias[j] : 0, magnitude = Math.Abs(expected);
            for (var p = 0; p < k; p++)
            {
                if (!(MathF.Abs(x[p]) > threshold)) continue;
                expected += (double)x[p] * w[p * n + j];
                magnitude += Math.Abs((double)x[p] * w[p * n + j]);
            }
            Assert.True(Math.Abs(y[j] - expected) <= 1e-5 * (magnitude + 1), $"{what}: y[{j}] = {y[j]}, expected {expected}");
        }
    }
}
