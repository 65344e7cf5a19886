namespace Sparrow.Tensors.Tests;

public sealed class TensorTests
{
    [Fact]
    public void Wrap_shares_the_callers_memory()
    {
        var data = new float[] { 1, 2, 3, 4, 5, 6 };
        using var t = Tensor<float>.Wrap(data, new[] { 2, 3 });
        t.Span[4] = 42;
        Assert.Equal(42, data[4]);
        Assert.Equal(new[] { 2, 3 }, t.Shape.ToArray());
        Assert.Equal(6, t.Length);
    }

    [Fact]
    public void Reshape_is_a_view_that_outlives_the_original()
    {
        var t = Tensor<float>.Allocate(new[] { 2, 3 });
        t.Span.Fill(7);
        var view = t.Reshape(new[] { 3, 2 });
        t.Dispose();
        Assert.All(view.ToArray(), v => Assert.Equal(7, v));
        view.Dispose();
        Assert.Throws<ObjectDisposedException>(() => view.Span.Length);
    }

    [Fact]
    public void Reshape_to_another_length_is_refused()
    {
        using var t = Tensor<long>.Allocate(new[] { 4 });
        var e = Assert.Throws<ArgumentException>(() => t.Reshape(new[] { 3 }));
        Assert.Contains("[4]", e.Message);
    }

    [Fact]
    public void Allocate_clears_recycled_memory()
    {
        for (var i = 0; i < 5; i++)
        {
            using var t = Tensor<float>.Allocate(new[] { 1000 });
            Assert.All(t.ToArray(), v => Assert.Equal(0, v));
            t.Span.Fill(float.NaN);
        }
    }

    [Fact]
    public void Scalars_and_empty_tensors_have_the_right_length()
    {
        using var scalar = Tensor<int>.Scalar(5);
        Assert.Equal(0, scalar.Rank);
        Assert.Equal(1, scalar.Length);
        using var empty = Tensor<float>.Allocate(new[] { 3, 0, 2 });
        Assert.Equal(0, empty.Length);
    }

    [Fact]
    public void Negative_or_huge_shapes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Tensor<float>.Allocate(new[] { 2, -1 }));
        Assert.Throws<ArgumentException>(() => Tensor<float>.Allocate(new[] { 1 << 20, 1 << 20 }));
    }

    [Fact]
    public void FromBytes_checks_the_length()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromBytes(DataType.Float32, new[] { 2 }, new byte[7]));
        Assert.Contains("needs 8 bytes", e.Message);
        using var t = (Tensor<float>)Tensor.FromBytes(DataType.Float32, new[] { 1 }, BitConverter.GetBytes(1.5f));
        Assert.Equal(1.5f, t.Span[0]);
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, new[] { 3 }, new[] { 2, 3 })]
    [InlineData(new[] { 2, 1, 4 }, new[] { 3, 1 }, new[] { 2, 3, 4 })]
    [InlineData(new int[0], new[] { 5 }, new[] { 5 })]
    [InlineData(new[] { 1 }, new[] { 0 }, new[] { 0 })]
    public void Broadcast_follows_numpy(int[] a, int[] b, int[] expected)
    {
        Assert.Equal(expected, TensorShape.Broadcast(a, b));
        Assert.Equal(expected, TensorShape.Broadcast(b, a));
    }

    [Fact]
    public void Incompatible_shapes_do_not_broadcast()
    {
        Assert.Null(TensorShape.TryBroadcast(new[] { 2, 3 }, new[] { 4 }));
        var e = Assert.Throws<ArgumentException>(() => TensorShape.Broadcast(new[] { 2, 3 }, new[] { 4 }));
        Assert.Contains("[2,3]", e.Message);
    }
}
