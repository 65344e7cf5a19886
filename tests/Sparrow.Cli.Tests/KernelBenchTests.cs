using System.Text.Json;
using Sparrow.Cli.Execution;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Cli.Tests;

public class KernelBenchTests
{
    [Fact]
    public void Bench_kernels_tiny_run_writes_every_table_markdown_and_json()
    {
        using var dir = new TempDirectory();
        var markdown = dir.File("BENCHMARKS.md");
        var json = dir.File("kernels.json");
        var r = CliRunner.Run("bench", "kernels", "--shapes", "24x40", "--rows", "1,3", "--sparsity", "50,90,2:4", "--kernels", "CSR,NM 2:4",
            "--runs", "2", "--time", "0", "--warmup", "0.01", "--threads", "1", "--bandwidth-mb", "8", "--markdown", markdown, "--json", json);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("memory read bandwidth", r.Output);
        Assert.Contains("break-even", r.Output);

        var text = File.ReadAllText(markdown);
        Assert.Contains("`sparrow bench kernels --shapes 24x40 --rows 1,3 --sparsity 50,90,2:4 --kernels 'CSR,NM 2:4' --runs 2", text);
        Assert.Contains("| shape | rows | sparsity | kernel | ms | GFLOP/s | vs dense | vs ORT | weight MB | GB/s (1 row) | of bandwidth |", text);
        Assert.Matches(@"\| 24x40 \| 1 \| 90% \(9\d\.\d%\) \| CSR \| [0-9.]+ \([0-9.]+-[0-9.]+\) \| [0-9.]+ \| [0-9.]+x \| [0-9.]+x \| [0-9.]+ \| [0-9.]+ \| [0-9.]+% \|", text);
        // GB/s only at one row.
        Assert.Matches(@"\| 24x40 \| 3 \| 90% \(9\d\.\d%\) \| CSR \| [^|]+ \| [0-9.]+ \| [0-9.]+x \| [0-9.]+x \| [0-9.]+ \| - \| - \|", text);
        Assert.Matches(@"\| 24x40 \| 3 \| 2:4 \(50%\) \| NM 2:4 \|", text);
        Assert.Contains("| shape | rows | dense ms | dense GFLOP/s | dense MB |", text);
        Assert.Contains("| shape | rows | sparse beats dense from | best speed-up at highest sparsity | best 2:4 speed-up |", text);
        Assert.Matches(@"\| 24x40 \| 1 \| (90% \(CSR\)|50% \(CSR\)|never up to 90%) \| [0-9.]+x at 90% \| [0-9.]+x \((CSR|NM 2:4)\) \|", text);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.True(root.GetProperty("memoryBandwidthBytesPerSecond").GetDouble() > 0);
        var kernels = root.GetProperty("kernels").EnumerateArray().ToArray();
        // Two row counts x (CSR at 50% and 90%, CSR and NM 2:4 at 2:4): NM 2:4 is left out where the mask breaks its pattern.
        Assert.Equal(8, kernels.Length);
        Assert.All(kernels.Where(k => k.GetProperty("kernel").GetString() == "NM 2:4"), k => Assert.Equal("2:4", k.GetProperty("sparsity").GetString()));
        foreach (var k in kernels)
        {
            var rows = k.GetProperty("rows").GetInt32();
            var median = k.GetProperty("timeMs").GetProperty("median").GetDouble();
            Assert.Equal(2.0 * rows * 24 * 40 / (median * 1e6), k.GetProperty("effectiveGflops").GetDouble(), 6);
            Assert.True(k.GetProperty("weightBytes").GetInt64() > 0);
            Assert.Equal(rows == 1 ? JsonValueKind.Number : JsonValueKind.Null, k.GetProperty("gigabytesPerSecond").ValueKind);
            var sparsity = k.GetProperty("sparsity").GetString();
            var actual = k.GetProperty("actualSparsity").GetDouble();
            if (sparsity == "2:4") Assert.Equal(0.5, actual, 9);
            else Assert.InRange(actual, sparsity == "90%" ? 0.8 : 0.4, sparsity == "90%" ? 1.0 : 0.6);
        }
        // The same CSR matrix at both row counts: the bytes do not depend on the rows.
        var csr90 = kernels.Where(k => k.GetProperty("kernel").GetString() == "CSR" && k.GetProperty("sparsity").GetString() == "90%").ToArray();
        Assert.Equal(2, csr90.Length);
        Assert.Equal(csr90[0].GetProperty("weightBytes").GetInt64(), csr90[1].GetProperty("weightBytes").GetInt64());
        Assert.Equal(2, root.GetProperty("baselines").GetArrayLength());
        Assert.Equal(2, root.GetProperty("breakEven").GetArrayLength());
    }

    [Theory]
    [InlineData("--kernels", "CSR,Nope", "no sparse kernel named 'Nope'")]
    [InlineData("--shapes", "0x4", "'0x4' is not a weight shape")]
    [InlineData("--sparsity", "100", "leaves no weight")]
    [InlineData("--sparsity", "4:2", "not an N:M pattern")]
    [InlineData("--rows", "0", "'0' is not a size")]
    public void Bench_kernels_refuses_bad_options_with_a_message(string option, string value, string message)
    {
        var r = CliRunner.Run("bench", "kernels", option, value, "--no-ort", "--bandwidth-mb", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Error);
    }

    [Fact]
    public void Sparsity_levels_parse_percentages_fractions_and_patterns()
    {
        var levels = SparsityLevel.Parse("50, 0.9,95%,2:4");
        Assert.Equal(["50%", "90%", "95%", "2:4"], levels.Select(l => l.Label));
        Assert.Equal([0.5, 0.9, 0.95, 0.5], levels.Select(l => l.Fraction), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal((2, 4), levels[3].Pattern);
        Assert.True(levels[0].IsUnstructured);
        Assert.Equal(["1536x384", "4096x4096"], KernelShape.Parse("1536x384,4096x4096").Select(s => s.Name));
    }

    [Fact]
    public void Pattern_masks_keep_the_largest_of_each_group_and_follow_the_pattern()
    {
        var shape = new KernelShape(7, 13); // 13 inputs: a partial last group
        var dense = KernelBenchWeights.Dense(shape, seed: 3);
        var level = SparsityLevel.Parse("2:4")[0];
        var mask = KernelBenchWeights.Mask(dense, shape, level);
        Assert.True(NMSparseMatrix.Follows(KernelBenchWeights.Apply(dense, mask), shape.Out, shape.In, 2, 4));
        for (var r = 0; r < shape.Out; r++)
            for (var g = 0; g < shape.In; g += 4)
            {
                var group = Enumerable.Range(g, Math.Min(4, shape.In - g)).Select(c => r * shape.In + c).ToArray();
                var kept = group.Where(i => mask[i]).ToArray();
                Assert.Equal(Math.Min(2, group.Length), kept.Length);
                Assert.True(kept.Min(i => Math.Abs(dense[i])) >= group.Where(i => !mask[i]).Select(i => Math.Abs(dense[i])).DefaultIfEmpty(0).Max());
            }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.95)]
    public void Unstructured_masks_drop_the_smallest_magnitudes_at_about_the_asked_fraction(double fraction)
    {
        var shape = new KernelShape(64, 200);
        var dense = KernelBenchWeights.Dense(shape, seed: 1);
        var mask = KernelBenchWeights.Mask(dense, shape, new SparsityLevel("x", fraction, null));
        Assert.InRange(KernelBenchWeights.ZeroFraction(mask), fraction - 0.02, fraction + 0.02);
        var keptMin = dense.Where((_, i) => mask[i]).Min(Math.Abs);
        var droppedMax = dense.Where((_, i) => !mask[i]).Max(Math.Abs);
        Assert.True(keptMin >= droppedMax);
        Assert.DoesNotContain(0f, dense);
    }

    [Fact]
    public void Break_even_is_the_lowest_level_from_which_sparse_wins_at_every_higher_level()
    {
        var shape = new KernelShape(8, 8);
        var levels = SparsityLevel.Parse("50,70,80,90,95,2:4");
        // Best speed-up per level: 50% 0.8, 70% 1.2, 80% 0.9 (a dip), 90% 1.5, 95% 2; 2:4 1.4.
        var speedups = new Dictionary<string, double[]>
        {
            ["50%"] = [0.8, 0.5], ["70%"] = [1.2, 0.7], ["80%"] = [0.9, 0.6], ["90%"] = [1.1, 1.5], ["95%"] = [2.0, 1.0], ["2:4"] = [1.4, 0.2],
        };
        var results = new List<KernelResult>();
        foreach (var level in levels)
            for (var k = 0; k < 2; k++)
                results.Add(Result(shape, 1, level, k == 0 ? "CSR" : "Bitmask", speedups[level.Label][k]));
        // At 4 rows, sparse never wins.
        foreach (var level in levels) results.Add(Result(shape, 4, level, "CSR", 0.5));
        var settings = new KernelBenchSettings([shape], [1, 4], levels, [], 1, 1, TimeSpan.Zero, TimeSpan.Zero, 1, 0);
        var rows = KernelBenchReport.BreakEven(new KernelBenchResults(settings, 1e10, results, []));

        var one = rows.Single(r => r.Rows == 1);
        Assert.Equal("90%", one.BreakEven?.Label);
        Assert.Equal("Bitmask", one.KernelAtBreakEven);
        Assert.Equal(2.0, one.BestAtHighest, 9);
        Assert.Equal("95%", one.Highest?.Label);
        var pattern = Assert.Single(one.BestPattern);
        Assert.Equal(("2:4", "CSR", 1.4), (pattern.Level.Label, pattern.Kernel, pattern.Speedup));
        var four = rows.Single(r => r.Rows == 4);
        Assert.Null(four.BreakEven);
        Assert.Equal(0.5, four.BestAtHighest, 9);
    }

    private static KernelResult Result(KernelShape shape, int rows, SparsityLevel level, string kernel, double speedup)
    {
        var time = new BenchStats(1.0, 1.0, 1.0, 1.0);
        var dense = new BenchStats(speedup, speedup, speedup, speedup);
        return new KernelResult(shape, rows, level, level.Fraction, kernel, kernel, 100, time, dense, null);
    }

    [Fact]
    public void Alternate_times_every_candidate_the_same_number_of_turns()
    {
        var calls = new int[3];
        var samples = KernelBench.Alternate([() => calls[0]++, () => calls[1]++, () => calls[2]++], minRuns: 4, TimeSpan.Zero, TimeSpan.Zero);
        Assert.All(samples, s => Assert.Equal(4, s.Count));
        Assert.Equal([9, 9, 9], calls); // one warm-up turn, then four timed turns of an untimed and a timed call
    }
}
