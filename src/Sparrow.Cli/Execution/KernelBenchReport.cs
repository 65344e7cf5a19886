using System.Globalization;
using System.Text;
using static Sparrow.Cli.Execution.BenchOutput;

namespace Sparrow.Cli.Execution;

/// <summary>
/// The tables of <c>sparrow bench kernels</c>, as rows of text cells so that the console and Markdown show the
/// same: every kernel's figures, the dense baselines, and where sparse stops paying.
/// </summary>
internal static class KernelBenchReport
{
    public sealed record TextTable(string Title, string[] Headers, List<string[]> Rows, int TextColumns);

    /// <summary>Where sparse starts to pay, per shape and row count.</summary>
    /// <param name="BreakEven">The lowest unstructured level from which the best sparse kernel beats dense at every higher level measured; null when none does.</param>
    /// <param name="BestAtHighest">The best sparse kernel's speed-up over dense at the highest unstructured level measured.</param>
    /// <param name="BestPattern">The best speed-up over dense of a kernel on an N:M-pattern weight, per pattern.</param>
    public sealed record BreakEvenRow(
        KernelShape Shape, int Rows, SparsityLevel? BreakEven, string? KernelAtBreakEven, SparsityLevel? Highest, double BestAtHighest,
        IReadOnlyList<(SparsityLevel Level, string Kernel, double Speedup)> BestPattern);

    public static IReadOnlyList<BreakEvenRow> BreakEven(KernelBenchResults results)
    {
        var rows = new List<BreakEvenRow>();
        foreach (var group in results.Results.GroupBy(r => (r.Shape, r.Rows)))
        {
            var best = group.GroupBy(r => r.Level)
                .Select(g => (Level: g.Key, Best: g.MaxBy(r => r.SpeedupOverDense)!))
                .ToArray();
            var unstructured = best.Where(b => b.Level.IsUnstructured).OrderBy(b => b.Level.Fraction).ToArray();
            SparsityLevel? breakEven = null;
            string? kernel = null;
            for (var i = unstructured.Length - 1; i >= 0 && unstructured[i].Best.SpeedupOverDense > 1; i--)
            {
                breakEven = unstructured[i].Level;
                kernel = unstructured[i].Best.Kernel;
            }
            var highest = unstructured.Length > 0 ? unstructured[^1] : default;
            rows.Add(new BreakEvenRow(group.Key.Shape, group.Key.Rows, breakEven, kernel, highest.Level,
                highest.Best?.SpeedupOverDense ?? double.NaN,
                best.Where(b => !b.Level.IsUnstructured).Select(b => (b.Level, b.Best.Kernel, b.Best.SpeedupOverDense)).ToArray()));
        }
        return rows;
    }

    public static IEnumerable<TextTable> Tables(KernelBenchResults results)
    {
        yield return KernelTable(results);
        yield return BaselineTable(results);
        yield return BreakEvenTable(results);
    }

    private static string Percent(double fraction) => (100 * fraction).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string GigaBytesPerSecond(double bytes, double ms) => ms <= 0 ? "-" : (bytes / (ms * 1e6)).ToString("0.0", CultureInfo.InvariantCulture);

    private static string OfBandwidth(double bytes, double ms, double bandwidth) =>
        ms <= 0 || bandwidth <= 0 ? "-" : Percent(bytes / (ms / 1e3) / bandwidth);

    private static TextTable KernelTable(KernelBenchResults results)
    {
        var withOrt = results.Settings.WithOrt;
        var headers = new List<string> { "shape", "rows", "sparsity", "kernel", "ms", "GFLOP/s", "vs dense" };
        if (withOrt) headers.Add("vs ORT");
        headers.AddRange(["weight MB", "GB/s (1 row)", "of bandwidth"]);
        var cells = new List<string[]>();
        foreach (var r in results.Results)
        {
            var row = new List<string>
            {
                r.Shape.Name, r.Rows.ToString(CultureInfo.InvariantCulture), $"{r.Level.Label} ({Percent(r.ActualSparsity)})", r.Kernel,
                Spread(r.Time), Gflops(r.Flops, r.Time.Median), Ratio(r.SpeedupOverDense),
            };
            if (withOrt) row.Add(Ratio(r.SpeedupOverOrt));
            row.Add(MegaBytes(r.WeightBytes));
            row.Add(r.Rows == 1 ? GigaBytesPerSecond(r.BytesRead, r.Time.Median) : "-");
            row.Add(r.Rows == 1 ? OfBandwidth(r.BytesRead, r.Time.Median, results.BandwidthBytesPerSecond) : "-");
            cells.Add(row.ToArray());
        }
        return new TextTable(
            "sparse kernels: ms per call, median (p25-p75); GFLOP/s of the dense-equivalent product; speed-ups over dense and ORT measured in the same turns",
            headers.ToArray(), cells, 4);
    }

    private static TextTable BaselineTable(KernelBenchResults results)
    {
        var withOrt = results.Settings.WithOrt;
        var headers = new List<string> { "shape", "rows", "dense ms", "dense GFLOP/s", "dense MB", "dense GB/s (1 row)", "of bandwidth" };
        if (withOrt) headers.AddRange(["ORT ms", "ORT GFLOP/s", "ORT GB/s (1 row)", "dense / ORT"]);
        var cells = new List<string[]>();
        foreach (var b in results.Baselines)
        {
            var one = b.Rows == 1;
            var row = new List<string>
            {
                b.Shape.Name, b.Rows.ToString(CultureInfo.InvariantCulture), Spread(b.Dense), Gflops(b.Flops, b.Dense.Median), MegaBytes(b.DenseBytes),
                one ? GigaBytesPerSecond(b.DenseBytes + b.XBytes, b.Dense.Median) : "-",
                one ? OfBandwidth(b.DenseBytes + b.XBytes, b.Dense.Median, results.BandwidthBytesPerSecond) : "-",
            };
            if (withOrt && b.Ort is { } o)
                row.AddRange([Spread(o), Gflops(b.Flops, o.Median), one ? GigaBytesPerSecond(b.OrtBytes + b.XBytes, o.Median) : "-", Ratio(b.Dense.Median / o.Median)]);
            cells.Add(row.ToArray());
        }
        return new TextTable("dense baselines: our GEMM with a prepacked weight and ONNX Runtime's MatMul, over all the turns at each shape and row count",
            headers.ToArray(), cells, 1);
    }

    private static TextTable BreakEvenTable(KernelBenchResults results)
    {
        var rows = BreakEven(results);
        var patterns = rows.SelectMany(r => r.BestPattern.Select(p => p.Level.Label)).Distinct().ToArray();
        var headers = new List<string> { "shape", "rows", "sparse beats dense from", "best speed-up at highest sparsity" };
        headers.AddRange(patterns.Select(p => $"best {p} speed-up"));
        var cells = new List<string[]>();
        foreach (var r in rows)
        {
            var row = new List<string>
            {
                r.Shape.Name, r.Rows.ToString(CultureInfo.InvariantCulture),
                r.BreakEven is { } l ? $"{l.Label} ({r.KernelAtBreakEven})" : r.Highest is { } h ? $"never up to {h.Label}" : "-",
                r.Highest is { } hi ? $"{Ratio(r.BestAtHighest)} at {hi.Label}" : "-",
            };
            foreach (var p in patterns)
                row.Add(r.BestPattern.FirstOrDefault(x => x.Level.Label == p) is { Kernel: not null } x ? $"{Ratio(x.Speedup)} ({x.Kernel})" : "-");
            cells.Add(row.ToArray());
        }
        return new TextTable("break-even: the lowest unstructured sparsity from which the best sparse kernel beats our dense GEMM at every higher level measured",
            headers.ToArray(), cells, 1);
    }

    public static string Markdown(KernelBenchResults results, string commandLine)
    {
        var md = new StringBuilder();
        md.AppendLine("## Sparse kernels vs dense GEMM and ONNX Runtime's MatMul");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `{commandLine}`.");
        md.AppendLine();
        foreach (var line in Preamble(results)) md.AppendLine("- " + line);
        foreach (var t in Tables(results))
        {
            md.AppendLine();
            md.AppendLine(char.ToUpperInvariant(t.Title[0]) + t.Title[1..] + ".");
            md.AppendLine();
            md.AppendLine("| " + string.Join(" | ", t.Headers) + " |");
            md.AppendLine("|" + string.Concat(t.Headers.Select((_, i) => i < t.TextColumns ? "---|" : "---:|")));
            foreach (var row in t.Rows) md.AppendLine("| " + string.Join(" | ", row) + " |");
        }
        return md.ToString();
    }

    /// <summary>The lines that say how the figures were measured.</summary>
    public static IEnumerable<string> Preamble(KernelBenchResults results)
    {
        var s = results.Settings;
        yield return $"CPU: {MachineInfo.CpuModel}, {MachineInfo.LogicalCores} logical cores; {MachineInfo.VectorIsa}; dense GEMM kernels: {Sparrow.Tensors.Kernels.Sgemm.InstructionSet}";
        yield return $"{MachineInfo.Runtime}; ONNX Runtime {OrtModelRunner.Version}" + (s.WithOrt ? " (MatMul with a constant weight, intra-op spinning off)" : " (not measured)");
        yield return $"{s.Threads} thread(s) for every candidate; memory read bandwidth measured here: {results.BandwidthBytesPerSecond / 1e9:0.0} GB/s (each of {s.Threads} thread(s) sums its share of a {s.BandwidthBufferBytes >> 20} MB buffer; a pass lasts from the first thread's start to the last one's end; best of 7 passes before and 7 after)";
        yield return $"Per shape, row count and sparsity, every candidate takes turns after {s.Warmup.TotalSeconds:0.##} s of warm-up; at least {s.Runs} timed turns and {s.TimePerGroup.TotalSeconds:0.##} s; in a turn each candidate runs twice and the second call is timed (the first wakes its threads after the other engine's); medians";
        yield return "Weights are [out, in], values uniform, masks by magnitude with a fixed seed (unstructured) or the N largest of each M (N:M); kernels whose pattern a mask breaks are left out";
        yield return "GFLOP/s = 2·rows·out·in / time (dense-equivalent); speed-ups = the other's median time / the kernel's; GB/s at one row = (weight bytes in the format + X) / time";
    }

    public static object Json(KernelBenchResults results, string commandLine)
    {
        var s = results.Settings;
        return new
        {
            Command = commandLine,
            MeasuredUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Machine = Machine(s.Threads),
            DenseGemmKernels = Sparrow.Tensors.Kernels.Sgemm.InstructionSet,
            MemoryBandwidthBytesPerSecond = results.BandwidthBytesPerSecond,
            s.Runs,
            WarmupSeconds = s.Warmup.TotalSeconds,
            SecondsPerGroup = s.TimePerGroup.TotalSeconds,
            s.Seed,
            Kernels = results.Results.Select(r => new
            {
                Shape = r.Shape.Name,
                r.Shape.Out,
                r.Shape.In,
                r.Rows,
                Sparsity = r.Level.Label,
                r.ActualSparsity,
                r.Kernel,
                r.Description,
                r.WeightBytes,
                TimeMs = r.Time,
                EffectiveGflops = r.Flops / (r.Time.Median * 1e6),
                SpeedupOverDense = r.SpeedupOverDense,
                SpeedupOverOrt = r.Ort is null ? (double?)null : r.SpeedupOverOrt,
                GigabytesPerSecond = r.Rows == 1 ? r.BytesRead / (r.Time.Median * 1e6) : (double?)null,
                FractionOfBandwidth = r.Rows == 1 ? r.BytesRead / (r.Time.Median / 1e3) / results.BandwidthBytesPerSecond : (double?)null,
            }),
            Baselines = results.Baselines.Select(b => new
            {
                Shape = b.Shape.Name,
                b.Rows,
                DenseMs = b.Dense,
                DenseGflops = b.Flops / (b.Dense.Median * 1e6),
                b.DenseBytes,
                OrtMs = b.Ort,
                OrtGflops = b.Ort is { } o ? b.Flops / (o.Median * 1e6) : (double?)null,
                b.OrtBytes,
            }),
            BreakEven = BreakEven(results).Select(r => new
            {
                Shape = r.Shape.Name,
                r.Rows,
                Sparsity = r.BreakEven?.Label,
                Kernel = r.KernelAtBreakEven,
                HighestSparsity = r.Highest?.Label,
                BestSpeedupAtHighest = double.IsFinite(r.BestAtHighest) ? r.BestAtHighest : (double?)null,
                Patterns = r.BestPattern.Select(p => new { Sparsity = p.Level.Label, p.Kernel, p.Speedup }),
            }),
        };
    }
}
