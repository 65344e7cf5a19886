using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

public sealed class LogSoftmaxTests
{
    /// <summary>LogSoftmax along one axis of [outer, axis, inner], in double.</summary>
    private static float[] Naive(float[] x, int outer, int axis, int inner)
    {
        var y = new float[x.Length];
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < inner; i++)
            {
                var max = double.NegativeInfinity;
                for (var a = 0; a < axis; a++) max = Math.Max(max, x[(o * axis + a) * inner + i]);
                var sum = 0.0;
                for (var a = 0; a < axis; a++) sum += Math.Exp(x[(o * axis + a) * inner + i] - max);
                for (var a = 0; a < axis; a++) y[(o * axis + a) * inner + i] = (float)(x[(o * axis + a) * inner + i] - max - Math.Log(sum));
            }
        return y;
    }

    [Fact]
    public void last_axis_matches_naive_for_every_row_length_to_100()
    {
        var random = new Random(52);
        for (var cols = 1; cols <= 100; cols++)
        {
            var rows = 1 + cols % 3;
            var x = OperatorHarness.RandomFloats(random, rows, cols).ToArray();
            var y = new float[x.Length];
            LogSoftmaxOperator.LastAxis(x, y, cols);
            OperatorHarness.AssertClose(Naive(x, rows, cols, 1), y);
        }
    }

    [Fact]
    public void inner_axis_matches_naive()
    {
        var random = new Random(53);
        foreach (var (axis, inner) in new[] { (1, 1), (1, 9), (5, 1), (7, 3), (3, 17), (12, 33), (2, 130) })
        {
            var x = OperatorHarness.RandomFloats(random, axis, inner).ToArray();
            var y = new float[x.Length];
            LogSoftmaxOperator.InnerAxis(x, y, axis, inner);
            OperatorHarness.AssertClose(Naive(x, 1, axis, inner), y);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(-3)]
    public void operator_opset_13_normalises_one_axis(int axis)
    {
        var random = new Random(54);
        int[] shape = [3, 4, 5];
        var x = OperatorHarness.RandomFloats(random, shape);
        var y = OperatorHarness.Run("LogSoftmax", 13, [x], attributes: NodeAttribute.Int("axis", axis))[0].As<float>();
        var a = axis < 0 ? axis + 3 : axis;
        var expected = Naive(x.ToArray(), TensorShape.Product(shape, 0, a), shape[a], TensorShape.Product(shape, a + 1, 3));
        OperatorHarness.AssertClose(expected, y.Span);
    }

    [Fact]
    public void operator_opset_13_defaults_to_the_last_axis()
    {
        var random = new Random(55);
        var x = OperatorHarness.RandomFloats(random, 3, 4, 5);
        var y = OperatorHarness.Run("LogSoftmax", 13, [x])[0].As<float>();
        OperatorHarness.AssertClose(Naive(x.ToArray(), 12, 5, 1), y.Span);
    }

    [Theory]
    [InlineData(null, 3, 20)] // default axis 1: rows of 4*5
    [InlineData(0, 1, 60)]
    [InlineData(2, 12, 5)]
    public void operator_before_opset_13_coerces_to_2d_at_axis(int? axis, int rows, int cols)
    {
        var random = new Random(56);
        var x = OperatorHarness.RandomFloats(random, 3, 4, 5);
        var y = axis is { } a
            ? OperatorHarness.Run("LogSoftmax", 11, [x], attributes: NodeAttribute.Int("axis", a))[0].As<float>()
            : OperatorHarness.Run("LogSoftmax", 11, [x])[0].As<float>();
        OperatorHarness.AssertClose(Naive(x.ToArray(), rows, cols, 1), y.Span);
    }

    [Fact]
    public void many_threads_give_the_same_result_as_one()
    {
        var random = new Random(57);
        var x = OperatorHarness.RandomFloats(random, 2, 12, 64, 64);
        var one = OperatorHarness.Run("LogSoftmax", 13, [x], threads: 1)[0].As<float>();
        var four = OperatorHarness.Run("LogSoftmax", 13, [x], threads: 4)[0].As<float>();
        Assert.Equal(one.ToArray(), four.ToArray());
        var middle = OperatorHarness.Run("LogSoftmax", 13, [x], threads: 4, attributes: NodeAttribute.Int("axis", 1))[0].As<float>();
        OperatorHarness.AssertClose(Naive(x.ToArray(), 2, 12, 64 * 64), middle.Span);
    }

    [Fact]
    public void large_values_neither_overflow_nor_lose_the_small_terms()
    {
        var x = Tensor<float>.FromArray([1000f, 1001f, 1002f, -1000f], 1, 4);
        var y = OperatorHarness.Run("LogSoftmax", 13, [x])[0].As<float>();
        OperatorHarness.AssertClose(Naive(x.ToArray(), 1, 4, 1), y.Span);
        Assert.True(float.IsFinite(y.Span[3]), "log of a tiny probability is a finite large negative number, not -inf");
    }

    [Fact]
    public void empty_input_gives_empty_output()
    {
        var x = Tensor<float>.FromArray([], 0, 4);
        var y = OperatorHarness.Run("LogSoftmax", 13, [x])[0].As<float>();
        Assert.Equal(new[] { 0, 4 }, y.Shape.ToArray());
    }
}
