using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

public sealed class PoolingTests
{
    /// <summary>2-D max pool with explicit pads, element by element, returning values and row-major flat indices.</summary>
    private static (float[] Values, long[] Indices, int OutH, int OutW) NaiveMaxPool(float[] x, int n, int c, int h, int w, int k, int stride, int pad)
    {
        var outH = (h + 2 * pad - k) / stride + 1;
        var outW = (w + 2 * pad - k) / stride + 1;
        var values = new List<float>();
        var indices = new List<long>();
        for (var p = 0; p < n * c; p++)
            for (var oh = 0; oh < outH; oh++)
                for (var ow = 0; ow < outW; ow++)
                {
                    var best = float.NegativeInfinity;
                    long at = -1;
                    for (var i = 0; i < k; i++)
                        for (var j = 0; j < k; j++)
                        {
                            int ih = oh * stride - pad + i, iw = ow * stride - pad + j;
                            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                            var v = x[p * h * w + ih * w + iw];
                            if (at < 0 || v > best) { best = v; at = p * h * w + ih * w + iw; }
                        }
                    values.Add(best);
                    indices.Add(at);
                }
        return (values.ToArray(), indices.ToArray(), outH, outW);
    }

    [Theory]
    [InlineData(3, 1, 0)]
    [InlineData(2, 2, 0)]
    [InlineData(3, 2, 1)]
    [InlineData(5, 3, 2)]
    public void max_pool_with_indices_matches_naive(int kernel, int stride, int pad)
    {
        var random = new Random(kernel * 100 + stride * 10 + pad);
        var x = OperatorHarness.RandomFloats(random, 2, 3, 11, 9);
        var results = OperatorHarness.Run("MaxPool", 12, [x], outputs: 2, threads: 2, attributes:
        [
            NodeAttribute.Ints("kernel_shape", [kernel, kernel]),
            NodeAttribute.Ints("strides", [stride, stride]),
            NodeAttribute.Ints("pads", [pad, pad, pad, pad]),
        ]);
        var expected = NaiveMaxPool(x.ToArray(), 2, 3, 11, 9, kernel, stride, pad);
        Assert.Equal(new[] { 2, 3, expected.OutH, expected.OutW }, results[0].Shape.ToArray());
        Assert.Equal(expected.Values, results[0].As<float>().ToArray());
        Assert.Equal(expected.Indices, results[1].As<long>().ToArray());
    }

    [Fact]
    public void max_pool_column_major_indices()
    {
        // One 2x3 plane: the max at row 1, column 2 is flat 5 in row-major order, 2 * 2 + 1 = 5 in column-major;
        // at row 0, column 2: row-major 2, column-major 4.
        var x = Tensor<float>.FromArray([0, 1, 9, 3, 4, 2], 1, 1, 2, 3);
        var results = OperatorHarness.Run("MaxPool", 12, [x], outputs: 2, attributes:
        [
            NodeAttribute.Ints("kernel_shape", [2, 3]),
            NodeAttribute.Int("storage_order", 1),
        ]);
        Assert.Equal(new[] { 9f }, results[0].As<float>().ToArray());
        Assert.Equal(new[] { 4L }, results[1].As<long>().ToArray());
    }

    [Fact]
    public void average_pool_counts_padding_only_when_asked()
    {
        var x = Tensor<float>.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        NodeAttribute[] common = [NodeAttribute.Ints("kernel_shape", [2, 2]), NodeAttribute.Ints("pads", [1, 1, 0, 0])];
        var excluded = OperatorHarness.Run("AveragePool", 19, [x], attributes: common)[0].As<float>();
        Assert.Equal(new[] { 1f, 1.5f, 2f, 2.5f }, excluded.ToArray());
        var included = OperatorHarness.Run("AveragePool", 19, [x], attributes: [.. common, NodeAttribute.Int("count_include_pad", 1)])[0].As<float>();
        Assert.Equal(new[] { 0.25f, 0.75f, 1f, 2.5f }, included.ToArray());
    }

    [Fact]
    public void kernel_larger_than_input_is_named()
    {
        var x = Tensor<float>.Allocate([1, 1, 2, 2]);
        var e = Assert.Throws<ArgumentException>(() =>
            OperatorHarness.Run("MaxPool", 12, [x], attributes: NodeAttribute.Ints("kernel_shape", [3, 3])));
        Assert.Contains("does not fit spatial dimension 0 of size 2", e.Message);
    }

    [Fact]
    public void batch_normalization_inference_and_wrong_channel_count()
    {
        var x = Tensor<float>.FromArray([1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2);
        var scale = Tensor<float>.FromArray([2, 1], 2);
        var bias = Tensor<float>.FromArray([0, 1], 2);
        var mean = Tensor<float>.FromArray([1, 2], 2);
        var variance = Tensor<float>.FromArray([4, 1], 2);
        var y = OperatorHarness.Run("BatchNormalization", 15, [x, scale, bias, mean, variance],
            attributes: NodeAttribute.Float("epsilon", 0))[0].As<float>();
        Assert.Equal(new[] { 0f, 1, 2, 3, 4, 5, 6, 7 }, y.ToArray()); // both channels come out as x - 1
        var wrong = Tensor<float>.FromArray([1, 2, 3], 3);
        var e = Assert.Throws<ArgumentException>(() =>
            OperatorHarness.Run("BatchNormalization", 15, [x, wrong, bias, mean, variance]));
        Assert.Contains("scale has shape [3]; expected [2]", e.Message);
    }
}
