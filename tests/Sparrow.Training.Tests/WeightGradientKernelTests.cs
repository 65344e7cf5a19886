using Sparrow.Training.Autograd;
using Sparrow.Training.Backward;
using Sparrow.Training.Data;

namespace Sparrow.Training.Tests;

public class WeightGradientKernelTests
{
    [Fact]
    public void Dot4_matches_a_double_reference_at_every_length()
    {
        var random = new Xoshiro256(1);
        for (var length = 0; length <= 300; length++)
        {
            var rows = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, length).Select(_ => (float)random.NextGaussian()).ToArray()).ToArray();
            var (d0, d1, d2, d3) = WeightGradient.Dot4(rows[0], rows[1], rows[2], rows[3], rows[4]);
            float[] actual = [d0, d1, d2, d3];
            for (var j = 0; j < 4; j++)
            {
                double expected = 0, magnitude = 0;
                for (var i = 0; i < length; i++)
                {
                    expected += (double)rows[0][i] * rows[j + 1][i];
                    magnitude += Math.Abs((double)rows[0][i] * rows[j + 1][i]);
                }
                Assert.True(Math.Abs(expected - actual[j]) <= 1e-5 * (1 + magnitude), $"length {length}, row {j}: {actual[j]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(1, 1, 1, 1.0)]
    [InlineData(7, 5, 3, 0.5)]
    [InlineData(33, 19, 17, 0.1)]
    [InlineData(64, 40, 24, 0.0)]
    public void Masked_weight_gradient_is_the_dense_product_at_kept_positions_and_zero_elsewhere(int m, int rows, int columns, double density)
    {
        var random = new Xoshiro256(m * 100 + rows);
        var p = Enumerable.Range(0, rows * m).Select(_ => (float)random.NextGaussian()).ToArray();
        var q = Enumerable.Range(0, columns * m).Select(_ => (float)random.NextGaussian()).ToArray();
        var keep = Enumerable.Range(0, rows * columns).Select(_ => random.NextDouble() < density).ToArray();
        var mask = new ParameterMask(keep, [rows, columns]);
        var dw = Enumerable.Repeat(float.NaN, rows * columns).ToArray();
        WeightGradient.Masked(mask, p, q, m, 0.5f, dw, threads: 2);
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                double expected = 0;
                for (var i = 0; i < m; i++) expected += (double)p[r * m + i] * q[c * m + i];
                if (keep[r * columns + c]) Assert.Equal(0.5 * expected, dw[r * columns + c], 4);
                else Assert.Equal(0, BitConverter.SingleToInt32Bits(dw[r * columns + c]));
            }
    }
}
