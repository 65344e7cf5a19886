using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

public sealed class LayerNormalizationTests
{
    /// <summary>Per row of length cols: y, mean and 1/sqrt(var + eps), in double.</summary>
    private static (float[] Y, float[] Mean, float[] Inv) Naive(float[] x, int cols, float[] scale, float[]? bias, float epsilon)
    {
        var rows = x.Length / cols;
        var y = new float[x.Length];
        var means = new float[rows];
        var invs = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            double mean = 0;
            for (var c = 0; c < cols; c++) mean += x[r * cols + c];
            mean /= cols;
            double variance = 0;
            for (var c = 0; c < cols; c++) variance += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            variance /= cols;
            var inv = 1 / Math.Sqrt(variance + epsilon);
            for (var c = 0; c < cols; c++)
                y[r * cols + c] = (float)((x[r * cols + c] - mean) * inv * scale[c] + (bias?[c] ?? 0));
            means[r] = (float)mean;
            invs[r] = (float)inv;
        }
        return (y, means, invs);
    }

    [Fact]
    public void row_kernel_matches_naive_for_every_length_to_300()
    {
        var random = new Random(11);
        for (var n = 1; n <= 300; n++)
        {
            var x = OperatorHarness.RandomFloats(random, n).ToArray();
            // An offset makes the mean matter, as in real activations.
            for (var i = 0; i < n; i++) x[i] += 3;
            var scale = OperatorHarness.RandomFloats(random, n).ToArray();
            var bias = OperatorHarness.RandomFloats(random, n).ToArray();
            foreach (var b in new[] { bias, null })
            {
                var y = new float[n];
                var (mean, inv) = LayerNormalizationOperator.NormalizeRow(x, scale, b, 1e-5f, y);
                var expected = Naive(x, n, scale, b, 1e-5f);
                OperatorHarness.AssertClose(expected.Y, y, 1e-4);
                OperatorHarness.AssertClose(expected.Mean, [mean], 1e-5);
                OperatorHarness.AssertClose(expected.Inv, [inv], 1e-4);
            }
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(0)]
    public void operator_with_mean_and_inv_std_dev_outputs(int axis)
    {
        var random = new Random(12);
        int[] shape = [4, 7, 48];
        var x = OperatorHarness.RandomFloats(random, shape);
        var a = axis < 0 ? axis + 3 : axis;
        var normalized = shape[a..];
        var scale = OperatorHarness.RandomFloats(random, normalized);
        var bias = OperatorHarness.RandomFloats(random, normalized);
        var results = OperatorHarness.Run("LayerNormalization", 17, [x, scale, bias], outputs: 3, threads: 2,
            attributes: [NodeAttribute.Int("axis", axis), NodeAttribute.Float("epsilon", 1e-3f)]);
        var cols = TensorShape.Product(normalized);
        var expected = Naive(x.ToArray(), cols, scale.ToArray(), bias.ToArray(), 1e-3f);
        OperatorHarness.AssertClose(expected.Y, results[0].As<float>().Span, 1e-4);
        OperatorHarness.AssertClose(expected.Mean, results[1].As<float>().Span);
        OperatorHarness.AssertClose(expected.Inv, results[2].As<float>().Span, 1e-4);
        var statsShape = shape.Select((d, i) => i < a ? d : 1).ToArray();
        Assert.Equal(statsShape, results[1].Shape.ToArray());
        Assert.Equal(statsShape, results[2].Shape.ToArray());
    }

    [Fact]
    public void scale_that_broadcasts_is_expanded()
    {
        var random = new Random(13);
        var x = OperatorHarness.RandomFloats(random, 3, 4, 5);
        var scale = OperatorHarness.RandomFloats(random, 1, 5); // broadcasts to [4, 5]
        var y = OperatorHarness.Run("LayerNormalization", 17, [x, scale], attributes: NodeAttribute.Int("axis", 1))[0].As<float>();
        var fullScale = Enumerable.Range(0, 20).Select(i => scale.Span[i % 5]).ToArray();
        OperatorHarness.AssertClose(Naive(x.ToArray(), 20, fullScale, null, 1e-5f).Y, y.Span, 1e-4);
    }

    [Fact]
    public void scale_of_the_wrong_shape_is_named()
    {
        var x = Tensor<float>.Allocate([2, 8]);
        var scale = Tensor<float>.Allocate([7]);
        var e = Assert.ThrowsAny<Exception>(() => OperatorHarness.Run("LayerNormalization", 17, [x, scale]));
        Assert.Contains("scale of shape [7]", e.Message);
    }
}
