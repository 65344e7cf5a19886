using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.SparseGpt;
using Xunit.Abstractions;

namespace Sparrow.Pruning.Tests;

public class SparseGptSolverTests(ITestOutputHelper output)
{
    /// <summary>A seeded layer whose inputs are correlated: X = Z·A with A a random mixing matrix, so H is far from diagonal.</summary>
    private sealed record Layer(float[] X, int Samples, float[] W, int Rows, int K, LayerInputStatistics Stats);

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static Layer MakeLayer(int seed, int rows, int k, int samples, int[]? deadInputs = null)
    {
        var random = new Random(seed);
        var mixing = new double[k * k];
        for (var i = 0; i < mixing.Length; i++) mixing[i] = Gaussian(random);
        var scale = Enumerable.Range(0, k).Select(_ => 0.2 + 2 * random.NextDouble()).ToArray();
        var x = new float[samples * k];
        var z = new double[k];
        for (var s = 0; s < samples; s++)
        {
            for (var i = 0; i < k; i++) z[i] = Gaussian(random);
            for (var j = 0; j < k; j++)
            {
                double sum = 0;
                for (var i = 0; i < k; i++) sum += z[i] * mixing[i * k + j];
                x[s * k + j] = (float)(sum * scale[j] / Math.Sqrt(k));
            }
            foreach (var d in deadInputs ?? []) x[s * k + d] = 0;
        }
        var w = Enumerable.Range(0, rows * k).Select(_ => (float)Gaussian(random)).ToArray();
        var stats = new LayerInputStatistics(k, withHessian: true);
        stats.Add(x, samples);
        return new Layer(x, samples, w, rows, k, stats);
    }

    /// <summary>‖X·Wᵀ − X·Ŵᵀ‖² over the calibration inputs.</summary>
    private static double OutputError(Layer layer, float[] pruned)
    {
        double error = 0;
        for (var s = 0; s < layer.Samples; s++)
            for (var r = 0; r < layer.Rows; r++)
            {
                double diff = 0;
                for (var i = 0; i < layer.K; i++)
                    diff += (double)layer.X[s * layer.K + i] * ((double)layer.W[r * layer.K + i] - pruned[r * layer.K + i]);
                error += diff * diff;
            }
        return error;
    }

    private static float[] MagnitudeUnstructured(float[] w, double sparsity)
    {
        var copy = (float[])w.Clone();
        MagnitudePruner.PruneSmallest(copy, (int)Math.Round(sparsity * copy.Length, MidpointRounding.ToZero));
        return copy;
    }

    private static float[] MagnitudeNOfM(float[] w, int k, int n, int m)
    {
        var copy = (float[])w.Clone();
        for (var g = 0; g < copy.Length; g += m)
        {
            var order = Enumerable.Range(g, m).OrderBy(i => MathF.Abs(copy[i])).ThenBy(i => i).ToArray();
            for (var i = 0; i < m - n; i++) copy[order[i]] = 0;
        }
        return copy;
    }

    private static SparseGptResult Solve(Layer layer, SparseGptOptions options) =>
        SparseGptSolver.Prune(layer.W, layer.Rows, layer.K, layer.Stats.Hessian, options);

    [Theory]
    [InlineData(SparseGptMaskScope.PerRow)]
    [InlineData(SparseGptMaskScope.PerBlock)]
    public void Unstructured_half_has_clearly_lower_output_error_than_magnitude(SparseGptMaskScope scope)
    {
        var layer = MakeLayer(seed: 11, rows: 48, k: 96, samples: 400);
        // Blocks of 32 so that the 96 columns span several blocks and the between-block propagation is exercised.
        var result = Solve(layer, SparseGptOptions.Unstructured(0.5) with { BlockSize = 32, MaskScope = scope });
        var ratio = OutputError(layer, result.Weights) / OutputError(layer, MagnitudeUnstructured(layer.W, 0.5));
        output.WriteLine($"50% {scope}: SparseGPT / magnitude output error = {ratio:F3}");
        Assert.True(ratio < 0.6, $"ratio {ratio}");
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    public void NOfM_has_clearly_lower_output_error_than_magnitude(int n, int m)
    {
        var layer = MakeLayer(seed: 12, rows: 48, k: 96, samples: 400);
        var result = Solve(layer, SparseGptOptions.NOfM(n, m) with { BlockSize = 32 });
        var ratio = OutputError(layer, result.Weights) / OutputError(layer, MagnitudeNOfM(layer.W, layer.K, n, m));
        output.WriteLine($"{n}:{m}: SparseGPT / magnitude output error = {ratio:F3}");
        Assert.True(ratio < 0.7, $"ratio {ratio}");
    }

    [Theory]
    [InlineData(0.0, SparseGptMaskScope.PerRow)]
    [InlineData(0.3, SparseGptMaskScope.PerRow)]
    [InlineData(0.3, SparseGptMaskScope.PerBlock)]
    [InlineData(0.77, SparseGptMaskScope.PerRow)]
    [InlineData(0.77, SparseGptMaskScope.PerBlock)]
    public void Achieved_sparsity_is_exactly_the_target(double sparsity, SparseGptMaskScope scope)
    {
        var layer = MakeLayer(seed: 13, rows: 13, k: 41, samples: 100);
        var result = Solve(layer, SparseGptOptions.Unstructured(sparsity) with { BlockSize = 16, MaskScope = scope });
        var expected = (long)Math.Round(sparsity * 13 * 41, MidpointRounding.ToZero);
        Assert.Equal(expected, result.PrunedCount);
        Assert.Equal(expected, result.Kept.Count(kept => !kept));
        for (var i = 0; i < result.Weights.Length; i++)
        {
            if (!result.Kept[i]) Assert.Equal(0f, result.Weights[i]);
            else Assert.True(float.IsFinite(result.Weights[i]));
        }
        if (scope == SparseGptMaskScope.PerRow)
        {
            // Every row gets its share: counts differ by at most one.
            var perRow = Enumerable.Range(0, 13).Select(r => result.Kept.Skip(r * 41).Take(41).Count(k => !k)).ToArray();
            Assert.True(perRow.Max() - perRow.Min() <= 1);
        }
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(1, 4)]
    [InlineData(4, 8)]
    [InlineData(3, 6)]
    public void NOfM_masks_keep_exactly_N_of_every_M(int n, int m)
    {
        var k = m * 10;
        var layer = MakeLayer(seed: 14, rows: 9, k: k, samples: 120);
        // A block size that is not a multiple of M is rounded up so that groups never straddle blocks.
        var result = Solve(layer, SparseGptOptions.NOfM(n, m) with { BlockSize = 7 });
        for (var r = 0; r < layer.Rows; r++)
            for (var g = 0; g < k; g += m)
            {
                var keptInGroup = 0;
                for (var i = 0; i < m; i++)
                {
                    var index = r * k + g + i;
                    if (result.Kept[index]) keptInGroup++;
                    else Assert.Equal(0f, result.Weights[index]);
                }
                Assert.Equal(n, keptInGroup);
            }
        Assert.Equal((long)layer.Rows * k * (m - n) / m, result.PrunedCount);
    }

    private static float[] MagnitudeBlocks(float[] w, int rows, int k, double sparsity, int blockRows, int blockColumns)
    {
        var copy = (float[])w.Clone();
        var perRow = k / blockColumns;
        var count = rows / blockRows * perRow;
        double Norm(int b)
        {
            double sum = 0;
            for (var r = 0; r < blockRows; r++)
                for (var c = 0; c < blockColumns; c++)
                {
                    var v = (double)w[(b / perRow * blockRows + r) * k + b % perRow * blockColumns + c];
                    sum += v * v;
                }
            return sum;
        }
        foreach (var b in Enumerable.Range(0, count).OrderBy(Norm).ThenBy(b => b).Take((int)Math.Round(sparsity * count, MidpointRounding.ToZero)))
            for (var r = 0; r < blockRows; r++)
                for (var c = 0; c < blockColumns; c++) copy[(b / perRow * blockRows + r) * k + b % perRow * blockColumns + c] = 0;
        return copy;
    }

    /// <summary>0.57 · 100 is 56.999… in floating point; the count must still be 57, as magnitude pruning's is.</summary>
    [Theory]
    [InlineData(0.57, 57)]
    [InlineData(0.29, 29)]
    [InlineData(0.58, 58)]
    public void Pruned_count_survives_rounding_error_in_sparsity_times_size(double sparsity, int expected)
    {
        var layer = MakeLayer(seed: 14, rows: 10, k: 10, samples: 40);
        Assert.Equal(expected, Solve(layer, SparseGptOptions.Unstructured(sparsity)).PrunedCount);
        Assert.Equal(expected, Solve(layer, SparseGptOptions.Unstructured(sparsity) with { MaskScope = SparseGptMaskScope.PerBlock }).PrunedCount);
    }

    [Theory]
    [InlineData(1, 4, SparseGptMaskScope.PerRow)]
    [InlineData(4, 4, SparseGptMaskScope.PerRow)]
    [InlineData(4, 4, SparseGptMaskScope.PerBlock)]
    [InlineData(2, 3, SparseGptMaskScope.PerBlock)]
    public void Block_patterns_prune_whole_blocks_exactly_and_beat_magnitude(int blockRows, int blockColumns, SparseGptMaskScope scope)
    {
        var layer = MakeLayer(seed: 23, rows: 48, k: 96, samples: 400);
        // Block size 30 is rounded up to a multiple of the pattern's width.
        var result = Solve(layer, SparseGptOptions.Blocks(0.5, blockRows, blockColumns) with { BlockSize = 30, MaskScope = scope });
        var blocks = 48 / blockRows * (96 / blockColumns);
        Assert.Equal((long)Math.Round(0.5 * blocks, MidpointRounding.ToZero) * blockRows * blockColumns, result.PrunedCount);
        for (var r0 = 0; r0 < 48; r0 += blockRows)
            for (var c0 = 0; c0 < 96; c0 += blockColumns)
            {
                var first = result.Kept[r0 * 96 + c0];
                for (var r = r0; r < r0 + blockRows; r++)
                    for (var c = c0; c < c0 + blockColumns; c++)
                    {
                        Assert.Equal(first, result.Kept[r * 96 + c]);
                        if (!first) Assert.Equal(0f, result.Weights[r * 96 + c]);
                    }
            }
        var ratio = OutputError(layer, result.Weights) / OutputError(layer, MagnitudeBlocks(layer.W, 48, 96, 0.5, blockRows, blockColumns));
        output.WriteLine($"50% in {blockRows}x{blockColumns} blocks {scope}: SparseGPT / magnitude output error = {ratio:F3}");
        Assert.True(ratio < 0.8, $"ratio {ratio}");
    }

    [Fact]
    public void Dead_inputs_get_zero_weights_and_no_NaN()
    {
        var layer = MakeLayer(seed: 15, rows: 8, k: 24, samples: 80, deadInputs: [0, 5, 23]);
        var result = Solve(layer, SparseGptOptions.Unstructured(0.25));
        Assert.All(result.Weights, v => Assert.True(float.IsFinite(v)));
        foreach (var dead in new[] { 0, 5, 23 })
            for (var r = 0; r < layer.Rows; r++) Assert.Equal(0f, result.Weights[r * layer.K + dead]);
        // Zeroed dead weights cost nothing to prune, so they are pruned first.
        var factor = SparseGptInverseFactor.Compute(layer.Stats.Hessian, layer.K);
        Assert.Equal([0, 5, 23], Enumerable.Range(0, layer.K).Where(i => factor.DeadInputs[i]));
        for (var r = 0; r < layer.Rows; r++) Assert.False(result.Kept[r * layer.K + 5]);
    }

    [Fact]
    public void Singular_hessian_is_handled_by_damping()
    {
        // Fewer samples than features: H has rank 10 of 32.
        var layer = MakeLayer(seed: 16, rows: 6, k: 32, samples: 10);
        var result = Solve(layer, SparseGptOptions.NOfM(2, 4));
        Assert.All(result.Weights, v => Assert.True(float.IsFinite(v)));
        Assert.True(OutputError(layer, result.Weights) < OutputError(layer, MagnitudeNOfM(layer.W, 32, 2, 4)));
    }

    [Fact]
    public void Singular_hessian_without_damping_fails_clearly()
    {
        var ones = new double[] { 1, 1, 1, 1 };
        var error = Assert.Throws<InvalidOperationException>(() => SparseGptInverseFactor.Compute(ones, 2, damping: 0));
        Assert.Contains("damping", error.Message);
        Assert.NotNull(SparseGptInverseFactor.Compute(ones, 2));
    }

    [Fact]
    public void Factor_is_the_upper_cholesky_factor_of_the_damped_inverse()
    {
        var layer = MakeLayer(seed: 17, rows: 1, k: 20, samples: 60, deadInputs: [3]);
        var k = layer.K;
        var factor = SparseGptInverseFactor.Compute(layer.Stats.Hessian, k, damping: 0.05);
        var damped = DampedHessian(layer.Stats.Hessian!, k, 0.05);
        // (UᵀU)·H = I and U is upper with a positive diagonal.
        for (var i = 0; i < k; i++)
            for (var j = 0; j < k; j++)
            {
                if (j < i) Assert.Equal(0, factor[i, j]);
                double product = 0;
                for (var a = 0; a < k; a++)
                {
                    double inverse = 0;
                    for (var t = 0; t <= Math.Min(i, a); t++) inverse += factor[t, i] * factor[t, a];
                    product += inverse * damped[a * k + j];
                }
                Assert.Equal(i == j ? 1 : 0, product, 8);
            }
    }

    private static double[] DampedHessian(double[] hessian, int k, double damping)
    {
        var h = (double[])hessian.Clone();
        for (var i = 0; i < k; i++) if (h[i * k + i] == 0) h[i * k + i] = 1;
        var mean = Enumerable.Range(0, k).Average(i => h[i * k + i]);
        for (var i = 0; i < k; i++) h[i * k + i] += damping * mean;
        return h;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Updates_match_sequential_optimal_brain_surgeon_for_the_chosen_mask(bool nOfM)
    {
        // The reference prunes column by column with an explicit inverse Hessian: for each column j in order,
        // if pruned, w[j+1:] -= w_j / Hinv_jj · Hinv[j, j+1:], then j is eliminated from Hinv.
        var layer = MakeLayer(seed: 18, rows: 5, k: 24, samples: 70, deadInputs: [7]);
        var k = layer.K;
        var options = (nOfM ? SparseGptOptions.NOfM(2, 4) : SparseGptOptions.Unstructured(0.6)) with { BlockSize = 8 };
        var result = Solve(layer, options);
        var inverse = Invert(DampedHessian(layer.Stats.Hessian!, k, options.Damping), k);
        for (var r = 0; r < layer.Rows; r++)
        {
            var hinv = (double[])inverse.Clone();
            var w = layer.W.Skip(r * k).Take(k).Select(v => (double)v).ToArray();
            w[7] = 0;
            for (var j = 0; j < k; j++)
            {
                if (!result.Kept[r * k + j])
                {
                    var scale = w[j] / hinv[j * k + j];
                    for (var c = j + 1; c < k; c++) w[c] -= scale * hinv[j * k + c];
                    w[j] = 0;
                }
                var pivot = hinv[j * k + j];
                var column = Enumerable.Range(0, k).Select(a => hinv[a * k + j]).ToArray();
                for (var a = 0; a < k; a++)
                    for (var b = 0; b < k; b++) hinv[a * k + b] -= column[a] * column[b] / pivot;
            }
            for (var c = 0; c < k; c++) Assert.Equal(w[c], result.Weights[r * k + c], 4);
        }
    }

    private static double[] Invert(double[] matrix, int k)
    {
        // Gauss-Jordan with partial pivoting, for the reference only.
        var a = (double[])matrix.Clone();
        var inverse = new double[k * k];
        for (var i = 0; i < k; i++) inverse[i * k + i] = 1;
        for (var col = 0; col < k; col++)
        {
            var pivotRow = Enumerable.Range(col, k - col).MaxBy(r => Math.Abs(a[r * k + col]));
            for (var c = 0; c < k; c++)
            {
                (a[col * k + c], a[pivotRow * k + c]) = (a[pivotRow * k + c], a[col * k + c]);
                (inverse[col * k + c], inverse[pivotRow * k + c]) = (inverse[pivotRow * k + c], inverse[col * k + c]);
            }
            var pivot = a[col * k + col];
            for (var c = 0; c < k; c++) { a[col * k + c] /= pivot; inverse[col * k + c] /= pivot; }
            for (var r = 0; r < k; r++)
            {
                if (r == col) continue;
                var factor = a[r * k + col];
                if (factor == 0) continue;
                for (var c = 0; c < k; c++) { a[r * k + c] -= factor * a[col * k + c]; inverse[r * k + c] -= factor * inverse[col * k + c]; }
            }
        }
        return inverse;
    }

    [Theory]
    [InlineData(SparseGptMaskScope.PerRow)]
    [InlineData(SparseGptMaskScope.PerBlock)]
    public void Results_are_deterministic_and_independent_of_threads(SparseGptMaskScope scope)
    {
        var layer = MakeLayer(seed: 19, rows: 70, k: 64, samples: 150);
        var options = SparseGptOptions.Unstructured(0.5) with { BlockSize = 16, MaskScope = scope };
        var first = Solve(layer, options with { Threads = 1 });
        var second = Solve(layer, options with { Threads = 2 });
        var third = Solve(layer, options);
        Assert.Equal(first.Weights, second.Weights);
        Assert.Equal(first.Weights, third.Weights);
        Assert.Equal(first.Kept, third.Kept);
    }

    [Fact]
    public void Empty_weights_are_fine()
    {
        var none = SparseGptSolver.Prune(ReadOnlySpan<float>.Empty, 0, 8, new double[64].Select((_, i) => i % 9 == 0 ? 1.0 : 0).ToArray(), SparseGptOptions.NOfM(2, 4));
        Assert.Empty(none.Weights);
        var noInputs = SparseGptSolver.Prune(ReadOnlySpan<float>.Empty, 5, 0, ReadOnlySpan<double>.Empty, SparseGptOptions.Unstructured(0.5));
        Assert.Equal(0, noInputs.PrunedCount);
    }

    [Fact]
    public void Bad_arguments_fail_clearly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.Unstructured(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.Unstructured(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.Unstructured(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.NOfM(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.NOfM(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.Unstructured(0.5) with { BlockSize = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.Unstructured(0.5) with { Damping = -1 });

        var layer = MakeLayer(seed: 20, rows: 3, k: 6, samples: 20);
        var error = Assert.Throws<ArgumentException>(() => Solve(layer, SparseGptOptions.NOfM(2, 4)));
        Assert.Contains("2:4", error.Message);
        Assert.Contains("divisible by 4", error.Message);
        var blocked = Assert.Throws<ArgumentException>(() => Solve(layer, SparseGptOptions.Blocks(0.5, 2, 2)));
        Assert.Contains("divisible by 2", blocked.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseGptOptions.Blocks(0.5, 0, 4));
        var nan = (float[])layer.W.Clone();
        nan[4] = float.NaN;
        Assert.Throws<ArgumentException>(() => SparseGptSolver.Prune(nan, 3, 6, layer.Stats.Hessian, SparseGptOptions.Unstructured(0.5)));
        Assert.Throws<ArgumentException>(() => SparseGptSolver.Prune(layer.W.AsSpan(1), 3, 6, layer.Stats.Hessian, SparseGptOptions.Unstructured(0.5)));
        Assert.Throws<ArgumentException>(() => SparseGptSolver.Prune(layer.W, 3, 6, new double[30], SparseGptOptions.Unstructured(0.5)));
        var other = SparseGptInverseFactor.Compute(MakeLayer(21, 1, 5, 20).Stats.Hessian, 5);
        Assert.Throws<ArgumentException>(() => SparseGptSolver.Prune(layer.W, 3, 6, other, SparseGptOptions.Unstructured(0.5)));
    }

    [Fact]
    public void MatMul_adapter_prunes_the_transposed_weight()
    {
        var layer = MakeLayer(seed: 22, rows: 12, k: 16, samples: 60);
        int k = layer.K, n = layer.Rows;
        var kByN = new float[k * n];
        for (var r = 0; r < n; r++)
            for (var i = 0; i < k; i++) kByN[i * n + r] = layer.W[r * k + i];
        var options = SparseGptOptions.NOfM(2, 4);
        var adapted = SparseGptPruner.PruneMatMulWeight(kByN, k, n, layer.Stats, options);
        var direct = Solve(layer, options);
        for (var r = 0; r < n; r++)
            for (var i = 0; i < k; i++)
            {
                Assert.Equal(direct.Weights[r * k + i], adapted.Weights[i * n + r]);
                Assert.Equal(direct.Kept[r * k + i], adapted.Kept[i * n + r]);
            }

        Assert.Throws<ArgumentException>(() => SparseGptPruner.PruneMatMulWeight(kByN, k, n, new LayerInputStatistics(k, withHessian: false), options));
        Assert.Throws<ArgumentException>(() => SparseGptPruner.PruneMatMulWeight(kByN, k, n, new LayerInputStatistics(k, withHessian: true), options));
        Assert.Throws<ArgumentException>(() => SparseGptPruner.PruneMatMulWeight(kByN, n, k, layer.Stats, options));
    }
}
