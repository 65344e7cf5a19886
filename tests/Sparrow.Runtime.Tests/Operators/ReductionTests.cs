using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

public sealed class ReductionTests
{
    private static float[] NaiveSum(float[] x, int[] shape, bool[] reduced, bool mean)
    {
        var outShape = shape.Select((d, i) => reduced[i] ? 1 : d).ToArray();
        var result = new double[TensorShape.Product(outShape)];
        var outStrides = TensorShape.Strides(outShape);
        var index = new int[shape.Length];
        long count = 1;
        for (var i = 0; i < shape.Length; i++) if (reduced[i]) count *= shape[i];
        for (var flat = 0; flat < x.Length; flat++)
        {
            var rest = flat;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            var o = 0;
            for (var d = 0; d < shape.Length; d++) if (!reduced[d]) o += index[d] * outStrides[d];
            result[o] += x[flat];
        }
        return result.Select(v => (float)(mean ? v / count : v)).ToArray();
    }

    [Fact]
    public void every_axis_subset_up_to_rank_4_matches_naive()
    {
        var random = new Random(5);
        int[] shape = [3, 1, 4, 5];
        var x = OperatorHarness.RandomFloats(random, shape);
        for (var mask = 1; mask < 16; mask++)
        {
            var reduced = Enumerable.Range(0, 4).Select(i => (mask >> i & 1) != 0).ToArray();
            var axes = Enumerable.Range(0, 4).Where(i => reduced[i]).Select(i => (long)i).ToArray();
            foreach (var (op, opset, mean) in new[] { ("ReduceSum", 13L, false), ("ReduceMean", 18L, true) })
            {
                var y = OperatorHarness.Run(op, opset, [x, Tensor<long>.FromArray(axes, axes.Length)])[0].As<float>();
                OperatorHarness.AssertClose(NaiveSum(x.ToArray(), shape, reduced, mean), y.Span);
                Assert.Equal(shape.Select((d, i) => reduced[i] ? 1 : d).ToArray(), y.Shape.ToArray());
            }
            var old = OperatorHarness.Run("ReduceMean", 13, [x], attributes: [NodeAttribute.Ints("axes", axes), NodeAttribute.Int("keepdims", 0)])[0].As<float>();
            Assert.Equal(shape.Where((_, i) => !reduced[i]).ToArray(), old.Shape.ToArray());
            OperatorHarness.AssertClose(NaiveSum(x.ToArray(), shape, reduced, true), old.Span);
        }
    }

    [Fact]
    public void empty_axes_reduce_everything_or_nothing()
    {
        var x = Tensor<long>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var all = OperatorHarness.Run("ReduceSum", 13, [x], attributes: NodeAttribute.Int("keepdims", 0))[0].As<long>();
        Assert.Equal(Array.Empty<int>(), all.Shape.ToArray());
        Assert.Equal(21, all.Span[0]);
        var none = OperatorHarness.Run("ReduceSum", 13, [x, Tensor<long>.Allocate([0])], attributes: NodeAttribute.Int("noop_with_empty_axes", 1))[0];
        Assert.Equal(x.ToArray(), none.As<long>().ToArray());
    }

    [Fact]
    public void empty_input_sums_to_zero()
    {
        var x = Tensor<float>.Allocate([2, 0, 4]);
        var y = OperatorHarness.Run("ReduceSum", 13, [x, Tensor<long>.FromArray([1], 1)])[0].As<float>();
        Assert.Equal(new[] { 2, 1, 4 }, y.Shape.ToArray());
        Assert.All(y.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void axis_out_of_range_is_named()
    {
        var x = Tensor<float>.Allocate([2, 3]);
        var e = Assert.Throws<ArgumentException>(() => OperatorHarness.Run("ReduceMean", 18, [x, Tensor<long>.FromArray([2], 1)]));
        Assert.Contains("ReduceMean axis 2 is out of range for rank 2", e.Message);
    }
}
