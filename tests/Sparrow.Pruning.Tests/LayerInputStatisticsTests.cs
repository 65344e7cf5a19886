using Sparrow.Pruning.Calibration;

namespace Sparrow.Pruning.Tests;

public class LayerInputStatisticsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 3)]
    [InlineData(300, 250)] // several chunks of rows, lines summed in parallel
    public void Hessian_matches_a_naive_sum_across_chunks(int features, int rows)
    {
        var random = new Random(features);
        var x = Enumerable.Range(0, rows * features).Select(_ => random.NextDouble() < 0.2 ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
        var stats = new LayerInputStatistics(features, withHessian: true);
        stats.Add(x, rows);
        var copy = stats.Copy();
        stats.Add(x.AsSpan(0, features), 1); // the copy is independent
        for (var i = 0; i < features; i++)
            for (var j = 0; j < features; j++)
            {
                double h = 0;
                for (var r = 0; r < rows; r++) h += (double)x[r * features + i] * x[r * features + j];
                Assert.Equal(h, copy.Hessian![i * features + j], 10);
            }
        Assert.Equal(rows, copy.Rows);
        Assert.Equal(rows + 1, stats.Rows);
    }

    [Fact]
    public void AccumulatesSquareSumsAndHessianOverBatches()
    {
        var random = new Random(3);
        const int features = 5;
        var all = Enumerable.Range(0, 7 * features).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var stats = new LayerInputStatistics(features, withHessian: true);
        stats.Add(all.AsSpan(0, 3 * features), 3);
        stats.Add(all.AsSpan(3 * features), 4);
        Assert.Equal(7, stats.Rows);
        for (var i = 0; i < features; i++)
        {
            double expected = 0;
            for (var r = 0; r < 7; r++) expected += (double)all[r * features + i] * all[r * features + i];
            Assert.Equal(expected, stats.SquareSums[i], 12);
            Assert.Equal(Math.Sqrt(expected), stats.FeatureNorms()[i], 12);
            for (var j = 0; j < features; j++)
            {
                double h = 0;
                for (var r = 0; r < 7; r++) h += (double)all[r * features + i] * all[r * features + j];
                Assert.Equal(h, stats.Hessian![i * features + j], 12);
            }
        }
    }

    [Fact]
    public void RefusesTooFewValues()
    {
        var stats = new LayerInputStatistics(4, withHessian: false);
        Assert.Null(stats.Hessian);
        Assert.Throws<ArgumentException>(() => stats.Add(new float[7], 2));
    }
}
