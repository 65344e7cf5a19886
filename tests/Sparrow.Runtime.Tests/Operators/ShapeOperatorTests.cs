using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

public sealed class ShapeOperatorTests
{
    private static Tensor<long> Longs(params long[] values) => Tensor<long>.FromArray(values, values.Length);

    [Fact]
    public void gather_embedding_lookup_and_negative_indices()
    {
        var table = Tensor<float>.FromArray(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 4, 3);
        var ids = Tensor<int>.FromArray([3, -4, 1, 3], 2, 2);
        var y = OperatorHarness.Run("Gather", 13, [table, ids])[0].As<float>();
        Assert.Equal(new[] { 2, 2, 3 }, y.Shape.ToArray());
        Assert.Equal(new float[] { 9, 10, 11, 0, 1, 2, 3, 4, 5, 9, 10, 11 }, y.ToArray());
    }

    [Fact]
    public void gather_along_last_axis_of_bool()
    {
        var data = Tensor<bool>.FromArray([true, false, false, true, true, false], 2, 3);
        var y = OperatorHarness.Run("Gather", 13, [data, Tensor<long>.Scalar(-1)], attributes: NodeAttribute.Int("axis", 1))[0].As<bool>();
        Assert.Equal(new[] { 2 }, y.Shape.ToArray());
        Assert.Equal(new[] { false, false }, y.ToArray());
    }

    [Fact]
    public void gather_index_out_of_range_is_named()
    {
        var table = Tensor<float>.Allocate([30522, 2]);
        var e = Assert.Throws<ArgumentException>(() => OperatorHarness.Run("Gather", 13, [table, Longs(5, 30600)]));
        Assert.Equal("Gather index 30600 is out of range for axis 0 of size 30522.", e.Message);
    }

    [Fact]
    public void reshape_is_a_view_with_zero_and_minus_one()
    {
        var data = Tensor<float>.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var y = OperatorHarness.Run("Reshape", 14, [data, Longs(0, -1)])[0].As<float>();
        Assert.Equal(new[] { 2, 12 }, y.Shape.ToArray());
        data.Span[5] = 100;
        Assert.Equal(100, y.Span[5]); // shares memory: no copy
        var zero = OperatorHarness.Run("Reshape", 14, [Tensor<float>.Allocate([0, 3]), Longs(3, 0)], attributes: NodeAttribute.Int("allowzero", 1))[0];
        Assert.Equal(new[] { 3, 0 }, zero.Shape.ToArray());
        var e = Assert.Throws<ArgumentException>(() => OperatorHarness.Run("Reshape", 14, [data, Longs(5, -1)]));
        Assert.Contains("cannot be inferred", e.Message);
    }

    [Fact]
    public void squeeze_and_unsqueeze_by_attribute_and_by_input()
    {
        var data = Tensor<float>.Allocate([1, 3, 1, 2]);
        Assert.Equal(new[] { 3, 2 }, OperatorHarness.Run("Squeeze", 13, [data])[0].Shape.ToArray());
        Assert.Equal(new[] { 3, 1, 2 }, OperatorHarness.Run("Squeeze", 13, [data, Longs(0)])[0].Shape.ToArray());
        Assert.Equal(new[] { 1, 3, 2 }, OperatorHarness.Run("Squeeze", 11, [data], attributes: NodeAttribute.Ints("axes", [-2]))[0].Shape.ToArray());
        var e = Assert.Throws<ArgumentException>(() => OperatorHarness.Run("Squeeze", 13, [data, Longs(1)]));
        Assert.Contains("size 3, not 1", e.Message);
        Assert.Equal(new[] { 1, 1, 3, 1, 2, 1 }, OperatorHarness.Run("Unsqueeze", 13, [data, Longs(-1, 1)])[0].Shape.ToArray());
        Assert.Equal(new[] { 1, 3, 1, 2, 1 }, OperatorHarness.Run("Unsqueeze", 11, [data], attributes: NodeAttribute.Ints("axes", [4]))[0].Shape.ToArray());
    }

    [Fact]
    public void concat_any_type_along_middle_axis()
    {
        var a = Tensor<long>.FromArray([1, 2, 3, 4], 2, 1, 2);
        var b = Tensor<long>.FromArray([5, 6, 7, 8, 9, 10, 11, 12], 2, 2, 2);
        var y = OperatorHarness.Run("Concat", 13, [a, b], attributes: NodeAttribute.Int("axis", -2))[0].As<long>();
        Assert.Equal(new[] { 2, 3, 2 }, y.Shape.ToArray());
        Assert.Equal(new long[] { 1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12 }, y.ToArray());
        var bad = Tensor<long>.Allocate([3, 1, 2]);
        Assert.Throws<ArgumentException>(() => OperatorHarness.Run("Concat", 13, [a, bad], attributes: NodeAttribute.Int("axis", 1)));
    }

    [Fact]
    public void slice_negative_steps_clamping_and_attributes()
    {
        var data = Tensor<int>.FromArray(Enumerable.Range(0, 20).ToArray(), 4, 5);
        // Rows 3..0 backwards by 2, columns from -2 to past the end.
        var y = OperatorHarness.Run("Slice", 13, [data, Longs(-1, -2), Longs(long.MinValue, long.MaxValue), Longs(0, 1), Longs(-2, 1)])[0].As<int>();
        Assert.Equal(new[] { 2, 2 }, y.Shape.ToArray());
        Assert.Equal(new[] { 18, 19, 8, 9 }, y.ToArray());
        var empty = OperatorHarness.Run("Slice", 13, [data, Longs(10), Longs(20), Longs(1)])[0];
        Assert.Equal(new[] { 4, 0 }, empty.Shape.ToArray());
        var old = OperatorHarness.Run("Slice", 9, [data], attributes: [NodeAttribute.Ints("starts", [1]), NodeAttribute.Ints("ends", [3])])[0].As<int>();
        Assert.Equal(Enumerable.Range(5, 10).ToArray(), old.ToArray());
        Assert.Throws<ArgumentException>(() => OperatorHarness.Run("Slice", 13, [data, Longs(0), Longs(1), Longs(0), Longs(0)]));
        var nothing = Tensor<float>.Allocate([0, 3]);
        var backwards = OperatorHarness.Run("Slice", 13, [nothing, Longs(-1), Longs(long.MinValue), Longs(0), Longs(-1)])[0];
        Assert.Equal(new[] { 0, 3 }, backwards.Shape.ToArray());
    }

    [Fact]
    public void flatten_negative_axis()
    {
        var data = Tensor<float>.Allocate([2, 3, 4, 5]);
        Assert.Equal(new[] { 6, 20 }, OperatorHarness.Run("Flatten", 13, [data], attributes: NodeAttribute.Int("axis", -2))[0].Shape.ToArray());
        Assert.Equal(new[] { 1, 120 }, OperatorHarness.Run("Flatten", 13, [data], attributes: NodeAttribute.Int("axis", 0))[0].Shape.ToArray());
    }
}
