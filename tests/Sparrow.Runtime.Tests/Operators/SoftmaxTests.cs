using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

public sealed class SoftmaxTests
{
    /// <summary>Softmax along one axis of [outer, axis, inner], in double.</summary>
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
                for (var a = 0; a < axis; a++) y[(o * axis + a) * inner + i] = (float)(Math.Exp(x[(o * axis + a) * inner + i] - max) / sum);
            }
        return y;
    }

    [Fact]
    public void last_axis_matches_naive_for_every_row_length_to_300()
    {
        var random = new Random(42);
        for (var cols = 1; cols <= 300; cols++)
        {
            var rows = 1 + cols % 3;
            var x = OperatorHarness.RandomFloats(random, rows, cols).ToArray();
            var y = new float[x.Length];
            SoftmaxOperator.LastAxis(x, y, cols);
            OperatorHarness.AssertClose(Naive(x, rows, cols, 1), y);
        }
    }

    [Fact]
    public void inner_axis_matches_naive()
    {
        var random = new Random(43);
        foreach (var (axis, inner) in new[] { (1, 1), (1, 9), (5, 1), (7, 3), (3, 17), (12, 33), (2, 130) })
        {
            var x = OperatorHarness.RandomFloats(random, axis, inner).ToArray();
            var y = new float[x.Length];
            SoftmaxOperator.InnerAxis(x, y, axis, inner);
            OperatorHarness.AssertClose(Naive(x, 1, axis, inner), y);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void operator_opset_13_normalises_one_axis(int axis)
    {
        var random = new Random(44);
        int[] shape = [3, 4, 5];
        var x = OperatorHarness.RandomFloats(random, shape);
        var y = OperatorHarness.Run("Softmax", 13, [x], attributes: NodeAttribute.Int("axis", axis))[0].As<float>();
        var a = axis < 0 ? axis + 3 : axis;
        var expected = Naive(x.ToArray(), TensorShape.Product(shape, 0, a), shape[a], TensorShape.Product(shape, a + 1, 3));
        OperatorHarness.AssertClose(expected, y.Span);
    }

    [Fact]
    public void operator_before_opset_13_coerces_to_2d_at_axis()
    {
        var random = new Random(45);
        var x = OperatorHarness.RandomFloats(random, 3, 4, 5);
        var y = OperatorHarness.Run("Softmax", 11, [x])[0].As<float>(); // default axis 1: rows of 4*5
        OperatorHarness.AssertClose(Naive(x.ToArray(), 3, 20, 1), y.Span);
    }

    [Fact]
    public void many_threads_give_the_same_result_as_one()
    {
        var random = new Random(46);
        var x = OperatorHarness.RandomFloats(random, 2, 12, 64, 64);
        var one = OperatorHarness.Run("Softmax", 13, [x], threads: 1)[0].As<float>();
        var four = OperatorHarness.Run("Softmax", 13, [x], threads: 4)[0].As<float>();
        Assert.Equal(one.ToArray(), four.ToArray());
        var middle = OperatorHarness.Run("Softmax", 13, [x], threads: 4, attributes: NodeAttribute.Int("axis", 1))[0].As<float>();
        OperatorHarness.AssertClose(Naive(x.ToArray(), 2, 12, 64 * 64), middle.Span);
    }

    [Fact]
    public void large_values_do_not_overflow()
    {
        var x = Tensor<float>.FromArray([1000f, 1001f, 1002f, -3e38f], 1, 4);
        var y = OperatorHarness.Run("Softmax", 13, [x])[0].As<float>();
        OperatorHarness.AssertClose(Naive(x.ToArray(), 1, 4, 1), y.Span);
    }
}
