using Sparrow.Pruning.Calibration;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Tests;

public sealed class WandaScoresTests
{
    [Fact]
    public void Scores_are_magnitude_times_input_norm_in_the_weights_layout()
    {
        const int k = 3, n = 4;
        var random = new Random(17);
        var w = Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var x = Enumerable.Range(0, 5 * k).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        var statistics = new LayerInputStatistics(k, withHessian: false);
        statistics.Add(x, 5);

        var scores = WandaScores.Compute(Tensor<float>.FromArray(w, k, n), reductionAxis: 0, statistics);
        for (var i = 0; i < k; i++)
        {
            double norm = 0;
            for (var r = 0; r < 5; r++) norm += (double)x[r * k + i] * x[r * k + i];
            norm = Math.Sqrt(norm);
            for (var j = 0; j < n; j++) Assert.Equal(Math.Abs(w[i * n + j]) * norm, scores[i * n + j], 5);
        }

        // The same weight stored transposed ([N, K], Gemm transB = 1) scores the same elements the same.
        var transposed = new float[n * k];
        for (var i = 0; i < k; i++)
            for (var j = 0; j < n; j++) transposed[j * k + i] = w[i * n + j];
        var scoresT = WandaScores.Compute(Tensor<float>.FromArray(transposed, n, k), reductionAxis: 1, statistics);
        for (var i = 0; i < k; i++)
            for (var j = 0; j < n; j++) Assert.Equal(scores[i * n + j], scoresT[j * k + i]);
    }

    [Fact]
    public void A_hand_computed_case()
    {
        // X rows (3, 0) and (4, 1): norms 5 and 1. W = [[1, -2], [-3, 0.5]].
        var statistics = new LayerInputStatistics(2, withHessian: false);
        statistics.Add(new float[] { 3, 0, 4, 1 }, 2);
        var scores = WandaScores.Compute(Tensor<float>.FromArray(new float[] { 1, -2, -3, 0.5f }, 2, 2), 0, statistics);
        Assert.Equal(new float[] { 5, 10, 3, 0.5f }, scores);
    }

    [Fact]
    public void A_feature_with_large_activations_keeps_weights_magnitude_would_drop()
    {
        const int k = 8, n = 6;
        var random = new Random(4);
        var w = Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        for (var j = 0; j < n; j++) w[j] *= 0.05f; // feature 0's weights are small...
        var statistics = new LayerInputStatistics(k, withHessian: false);
        var x = new float[50 * k];
        for (var r = 0; r < 50; r++)
            for (var i = 0; i < k; i++) x[r * k + i] = (float)(random.NextDouble() * 2 - 1) * (i == 0 ? 100 : 1); // ...but its activations are huge
        statistics.Add(x, 50);

        var wanda = WandaScores.Compute(Tensor<float>.FromArray(w, k, n), 0, statistics);
        var magnitude = w.Select(MathF.Abs).ToArray();
        var keptByWanda = KeepHalfPerOutput(wanda, k, n);
        var keptByMagnitude = KeepHalfPerOutput(magnitude, k, n);
        Assert.NotEqual(keptByMagnitude, keptByWanda);
        for (var j = 0; j < n; j++)
        {
            Assert.True(keptByWanda[j], $"Wanda keeps feature 0 of output {j}");
            Assert.False(keptByMagnitude[j], $"magnitude drops feature 0 of output {j}");
        }
    }

    /// <summary>Per output (column of a [K, N] weight), keeps the K/2 highest scores.</summary>
    private static bool[] KeepHalfPerOutput(float[] scores, int k, int n)
    {
        var kept = new bool[k * n];
        for (var j = 0; j < n; j++)
            foreach (var i in Enumerable.Range(0, k).OrderByDescending(i => scores[i * n + j]).Take(k / 2)) kept[i * n + j] = true;
        return kept;
    }

    [Fact]
    public void Mismatched_statistics_are_refused()
    {
        var statistics = new LayerInputStatistics(3, withHessian: false);
        Assert.Throws<ArgumentException>(() => WandaScores.Compute(Tensor<float>.FromArray(new float[8], 4, 2), 0, statistics));
    }
}
