using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

/// <summary>Greater, Less, Not, Size, Tile and ArgMax against direct reference computations.</summary>
public sealed class ComparisonAndIndexOperatorTests
{
    [Fact]
    public void greater_and_less_broadcast_and_treat_nan_as_unordered()
    {
        var a = Tensor<float>.FromArray([1f, 2f, float.NaN, -1f, 5f, 0f], 2, 3);
        var b = Tensor<float>.FromArray([1f, 0f, 3f], 3);
        var greater = OperatorHarness.Run("Greater", 13, [a, b])[0].As<bool>();
        var less = OperatorHarness.Run("Less", 13, [a, b])[0].As<bool>();
        Assert.Equal(new[] { 2, 3 }, greater.Shape.ToArray());
        Assert.Equal(new[] { false, true, false, false, true, false }, greater.ToArray());
        Assert.Equal(new[] { false, false, false, true, false, true }, less.ToArray());
    }

    [Fact]
    public void greater_works_on_integers_and_rejects_mixed_types()
    {
        var a = Tensor<long>.FromArray([3L, -4L, 7L], 3);
        var b = Tensor<long>.Scalar(3L);
        Assert.Equal(new[] { false, false, true }, OperatorHarness.Run("Greater", 13, [a, b])[0].As<bool>().ToArray());
        Assert.Equal(new[] { false, true, false }, OperatorHarness.Run("Less", 13, [a, b])[0].As<bool>().ToArray());
        Assert.ThrowsAny<Exception>(() => OperatorHarness.Run("Greater", 13, [a, Tensor<float>.Scalar(1f)]));
    }

    [Fact]
    public void not_negates_and_size_counts()
    {
        var x = Tensor<bool>.FromArray([true, false, false, true], 2, 2);
        Assert.Equal(new[] { false, true, true, false }, OperatorHarness.Run("Not", 13, [x])[0].As<bool>().ToArray());
        var size = OperatorHarness.Run("Size", 13, [Tensor<float>.Allocate([3, 0, 2])])[0].As<long>();
        Assert.Equal(0, size.Rank);
        Assert.Equal(0L, size.Span[0]);
        Assert.Equal(24L, OperatorHarness.Run("Size", 13, [Tensor<float>.Allocate([2, 3, 4])])[0].As<long>().Span[0]);
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, new long[] { 2, 2 })]
    [InlineData(new[] { 1, 4, 2 }, new long[] { 3, 1, 2 })]
    [InlineData(new[] { 3 }, new long[] { 4 })]
    [InlineData(new[] { 2, 2 }, new long[] { 0, 3 })]
    public void tile_matches_modular_indexing(int[] shape, long[] repeats)
    {
        var random = new Random(7);
        var x = OperatorHarness.RandomFloats(random, shape);
        var y = OperatorHarness.Run("Tile", 13, [x, Tensor<long>.FromArray(repeats, repeats.Length)])[0].As<float>();
        var outShape = shape.Select((d, i) => d * (int)repeats[i]).ToArray();
        Assert.Equal(outShape, y.Shape.ToArray());
        var outStrides = TensorShape.Strides(outShape);
        var inStrides = TensorShape.Strides(shape);
        for (var k = 0; k < y.Length; k++)
        {
            var source = 0;
            for (var axis = 0; axis < shape.Length; axis++)
                source += k / outStrides[axis] % outShape[axis] % shape[axis] * inStrides[axis];
            Assert.Equal(x.Span[source], y.Span[k]);
        }
    }

    [Fact]
    public void tile_rejects_wrong_repeat_counts()
    {
        var x = Tensor<float>.Allocate([2, 2]);
        Assert.Throws<ArgumentException>(() => OperatorHarness.Run("Tile", 13, [x, Tensor<long>.FromArray([2L], 1)]));
        Assert.Throws<ArgumentException>(() => OperatorHarness.Run("Tile", 13, [x, Tensor<long>.FromArray([2L, -1L], 2)]));
    }

    [Fact]
    public void argmax_picks_first_or_last_of_ties_along_an_axis()
    {
        var x = Tensor<float>.FromArray([1f, 5f, 5f, 2f, /* */ 7f, 0f, 7f, 7f], 2, 4);
        Assert.Equal(new long[] { 1, 0 }, OperatorHarness.Run("ArgMax", 13, [x], attributes: NodeAttribute.Int("axis", 1))[0].As<long>().ToArray());
        var last = OperatorHarness.Run("ArgMax", 13, [x], attributes: [NodeAttribute.Int("axis", -1), NodeAttribute.Int("select_last_index", 1)])[0].As<long>();
        Assert.Equal(new long[] { 2, 3 }, last.ToArray());
        Assert.Equal(new[] { 2, 1 }, last.Shape.ToArray());
        var axis0 = OperatorHarness.Run("ArgMax", 13, [x], attributes: NodeAttribute.Int("keepdims", 0))[0].As<long>();
        Assert.Equal(new[] { 4 }, axis0.Shape.ToArray());
        Assert.Equal(new long[] { 1, 0, 1, 1 }, axis0.ToArray());
    }

    [Fact]
    public void argmax_of_a_middle_axis_matches_a_loop()
    {
        var random = new Random(9);
        var x = OperatorHarness.RandomFloats(random, 3, 5, 4);
        var y = OperatorHarness.Run("ArgMax", 13, [x], attributes: NodeAttribute.Int("axis", 1))[0].As<long>();
        Assert.Equal(new[] { 3, 1, 4 }, y.Shape.ToArray());
        for (var o = 0; o < 3; o++)
            for (var i = 0; i < 4; i++)
            {
                var best = 0;
                for (var k = 1; k < 5; k++)
                    if (x.Span[(o * 5 + k) * 4 + i] > x.Span[(o * 5 + best) * 4 + i]) best = k;
                Assert.Equal(best, y.Span[o * 4 + i]);
            }
    }
}
