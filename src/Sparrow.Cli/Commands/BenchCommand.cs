using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sparrow.Cli.Execution;
using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow bench MODEL.onnx</c>: Sparrow's dense runtime and ONNX Runtime side by side in one process,
/// same inputs and thread count, taking turns (A B A B) after a warm-up so that neither gets a quieter
/// machine; medians per batch size and sequence length, and where Sparrow's time goes.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The shortest warm-up per batch size and sequence length, whatever --warmup says.</summary>
    private static readonly TimeSpan MinimumWarmup = TimeSpan.FromSeconds(3);

    internal sealed record Settings(
        string? ModelPath, string Batches, string Sequences, int Threads, int Warmup, int Runs, int Seed, string? Markdown, bool Profile,
        string SparseKernel = "auto");

    internal sealed record Stats(double Median, double P25, double P75, double Min)
    {
        public static Stats Of(List<double> samples)
        {
            var sorted = samples.Order().ToArray();
            return new Stats(Percentile(sorted, 0.5), Percentile(sorted, 0.25), Percentile(sorted, 0.75), sorted[0]);
        }

        private static double Percentile(double[] sorted, double p)
        {
            var x = p * (sorted.Length - 1);
            var lo = (int)Math.Floor(x);
            var hi = Math.Min(lo + 1, sorted.Length - 1);
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
        }
    }

    /// <param name="ProfileWall">Wall time of all the profiled runs together, to show the time spent outside operators.</param>
    internal sealed record Row(int Batch, int? Sequence, Stats Sparrow, Stats Ort, long Flops, IReadOnlyDictionary<string, TimeSpan> Profile, int ProfileRuns, TimeSpan ProfileWall)
    {
        public double Ratio => Sparrow.Median / Ort.Median;

        public string Label => Sequence is { } s ? $"b{Batch} s{s}" : $"b{Batch}";
    }

    public static Command Create(CommandContext context)
    {
        var model = CommonOptions.ModelArgument("omitted, the embedded all-MiniLM-L6-v2");
        var batch = new Option<string>("--batch") { Description = "Batch sizes, comma-separated.", DefaultValueFactory = _ => "1,8,32" };
        var sequence = new Option<string>("--seq") { Description = "Sequence lengths, comma-separated (ignored by models without one).", DefaultValueFactory = _ => "32,128" };
        var threads = CommonOptions.Threads();
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs of each engine before measuring (the JIT needs them to tier up).", DefaultValueFactory = _ => 30 };
        var runs = new Option<int>("--runs") { Description = "Timed runs of each engine per batch size and sequence length.", DefaultValueFactory = _ => 20 };
        var seed = CommonOptions.Seed();
        var markdown = new Option<string?>("--markdown") { Description = "Append the results as a Markdown table to this file (e.g. BENCHMARKS.md), with the command that made them." };
        var noProfile = new Option<bool>("--no-profile") { Description = "Skip the per-operator profile of Sparrow." };
        var sparseKernel = CommonOptions.SparseKernel();
        var command = new Command("bench", "Measures Sparrow's dense runtime against ONNX Runtime, side by side, per batch size and sequence length.")
        {
            model, batch, sequence, threads, warmup, runs, seed, markdown, noProfile, sparseKernel,
        };
        command.SetAction(parse => Run(context, new Settings(
            parse.GetValue(model), parse.GetValue(batch) ?? "1", parse.GetValue(sequence) ?? "32", parse.GetValue(threads),
            parse.GetValue(warmup), parse.GetValue(runs), parse.GetValue(seed), parse.GetValue(markdown), !parse.GetValue(noProfile),
            parse.GetValue(sparseKernel) ?? "auto")));
        return command;
    }

    internal static int Run(CommandContext context, Settings settings)
    {
        var console = context.Console;
        var batches = CommonOptions.ParseSizes(settings.Batches, "--batch");
        var sequences = CommonOptions.ParseSizes(settings.Sequences, "--seq");
        if (settings.Warmup < 0) throw new UsageException($"--warmup must be 0 or more, got {settings.Warmup}.");
        if (settings.Runs < 1) throw new UsageException($"--runs must be at least 1, got {settings.Runs}.");
        if (settings.Markdown is { } md && Directory.Exists(md)) throw new UsageException($"--markdown {md} is a folder; give a file name.");
        var threads = CommonOptions.ResolveThreads(settings.Threads);
        var model = LoadedModel.Load(settings.ModelPath);
        var hasSequence = HasSequenceDimension(model.Model.Graph);
        if (!hasSequence) sequences = sequences[..1];

        console.MarkupLine($"Model [bold]{Markup.Escape(model.DisplayName)}[/]");
        console.MarkupLine($"CPU {Markup.Escape(MachineInfo.CpuModel)}, {MachineInfo.LogicalCores} logical cores, {Markup.Escape(MachineInfo.VectorIsa)}");
        console.MarkupLine($"{Markup.Escape(MachineInfo.Runtime)}; ONNX Runtime {OrtModelRunner.Version}; {threads} thread(s) each; {settings.Warmup} warm-up runs (and at least {MinimumWarmup.TotalSeconds:0} s), then {settings.Runs} timed runs alternating Sparrow and ONNX Runtime.");

        var rows = new List<Row>();
        using var session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = threads, SparseKernel = CommonOptions.ResolveSparseKernel(settings.SparseKernel) });
        using var ort = new OrtModelRunner(model, threads, allowSpinning: false);
        foreach (var b in batches)
            foreach (var s in sequences)
            {
                var row = Measure(model.Model, session, ort, b, hasSequence ? s : null, s, settings, threads);
                rows.Add(row);
                console.MarkupLine($"  {row.Label}: Sparrow {Ms(row.Sparrow.Median)} ms, ONNX Runtime {Ms(row.Ort.Median)} ms, ratio {Ratio(row.Ratio)}");
            }

        console.Write(ResultTable(rows, hasSequence));
        if (settings.Profile) console.Write(ProfileTable(rows));
        if (settings.Markdown is { } path)
        {
            WriteMarkdown(path, context, model, rows, hasSequence, settings, threads);
            console.MarkupLine($"Appended the results to [bold]{Markup.Escape(path)}[/].");
        }
        return ExitCodes.Success;
    }

    /// <summary>Whether any input has a dynamic dimension after its first: the sequence length.</summary>
    private static bool HasSequenceDimension(ModelGraph graph) =>
        graph.RequiredInputs.Any(i => i.Shape is { } shape && shape.Count(d => !d.IsFixed) >= 2);

    private static Row Measure(Model model, InferenceSession session, OrtModelRunner ort, int batch, int? sequence, int sequenceValue, Settings settings, int threads)
    {
        var inputs = new InputGenerator(model, batch, sequenceValue).Generate(settings.Seed);
        try
        {
            long flops;
            try
            {
                flops = FlopCounter.Measure(model, inputs, threads).Sum(f => f.Flops);
            }
            catch (Exception e) when (SparrowApp.IsUserError(e))
            {
                throw new InferenceException($"Sparrow cannot run the model at batch {batch}: {e.Message}", e);
            }
            using var bound = ort.Bind(inputs);
            // At least the asked-for runs and at least MinimumWarmup of time: .NET promotes hot methods to
            // optimised code on a background timer, so at a few milliseconds a run, 30 runs are not enough.
            var warmupClock = Stopwatch.StartNew();
            for (var i = 0; i < settings.Warmup || settings.Warmup > 0 && warmupClock.Elapsed < MinimumWarmup; i++)
            {
                RunSparrow(session, inputs, null);
                RunOrt(ort, bound);
            }
            var sparrowTimes = new List<double>(settings.Runs);
            var ortTimes = new List<double>(settings.Runs);
            for (var i = 0; i < settings.Runs; i++)
            {
                sparrowTimes.Add(RunSparrow(session, inputs, null));
                ortTimes.Add(RunOrt(ort, bound));
            }
            var profile = new NodeProfile();
            var profileRuns = settings.Profile ? Math.Max(3, settings.Runs / 4) : 0;
            var wall = 0.0;
            for (var i = 0; i < profileRuns; i++)
            {
                wall += RunSparrow(session, inputs, profile);
                profile.CountRun();
            }
            return new Row(batch, sequence, Stats.Of(sparrowTimes), Stats.Of(ortTimes), flops, profile.ByOpType, profileRuns, TimeSpan.FromMilliseconds(wall));
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
        }
    }

    /// <returns>Milliseconds.</returns>
    private static double RunSparrow(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs, NodeProfile? profile)
    {
        var started = Stopwatch.GetTimestamp();
        var outputs = session.Run(inputs, profile);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        foreach (var t in outputs.Values) t.Dispose();
        return elapsed;
    }

    private static double RunOrt(OrtModelRunner ort, OrtModelRunner.BoundInputs inputs)
    {
        var started = Stopwatch.GetTimestamp();
        var outputs = ort.Run(inputs);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        outputs.Dispose();
        return elapsed;
    }

    private static Table ResultTable(IReadOnlyList<Row> rows, bool hasSequence)
    {
        var table = new Table().Border(TableBorder.Simple).Title("latency per run, milliseconds: median (p25-p75)").AddColumn("batch");
        if (hasSequence) table.AddColumn(new TableColumn("seq").RightAligned());
        table.AddColumn(new TableColumn("Sparrow").RightAligned()).AddColumn(new TableColumn("ONNX Runtime").RightAligned())
            .AddColumn(new TableColumn("Sparrow/ORT").RightAligned())
            .AddColumn(new TableColumn("Sparrow GFLOP/s").RightAligned()).AddColumn(new TableColumn("ORT GFLOP/s").RightAligned());
        foreach (var r in rows)
        {
            var cells = new List<string> { r.Batch.ToString(CultureInfo.InvariantCulture) };
            if (hasSequence) cells.Add(r.Sequence?.ToString(CultureInfo.InvariantCulture) ?? "-");
            cells.Add(Spread(r.Sparrow));
            cells.Add(Spread(r.Ort));
            cells.Add(Ratio(r.Ratio));
            cells.Add(Gflops(r.Flops, r.Sparrow.Median));
            cells.Add(Gflops(r.Flops, r.Ort.Median));
            table.AddRow(cells.ToArray());
        }
        return table;
    }

    /// <summary>Op types that take at least this share somewhere get their own row; the rest are summed.</summary>
    private const int ProfileRows = 12;

    private static IReadOnlyList<string> ProfileOpTypes(IReadOnlyList<Row> rows) =>
        rows.SelectMany(r => r.Profile.Select(kv => (kv.Key, Share: Share(r, kv.Value))))
            .GroupBy(x => x.Key)
            .OrderByDescending(g => g.Max(x => x.Share))
            .Select(g => g.Key)
            .ToArray();

    /// <summary>A part of the profiled runs' wall time (operators plus the session's own work between them).</summary>
    private static double Share(Row r, TimeSpan t)
    {
        var total = Math.Max(r.ProfileWall.TotalMilliseconds, r.Profile.Values.Sum(v => v.TotalMilliseconds));
        return total == 0 ? 0 : t.TotalMilliseconds / total;
    }

    /// <summary>Wall time not spent inside any operator: planning, allocation, handing over outputs.</summary>
    private static TimeSpan OutsideOperators(Row r) =>
        TimeSpan.FromTicks(Math.Max(0, r.ProfileWall.Ticks - r.Profile.Values.Sum(v => v.Ticks)));

    private static Table ProfileTable(IReadOnlyList<Row> rows)
    {
        var table = new Table().Border(TableBorder.Simple).Title("where Sparrow's time goes: ms per run (share of the run)").AddColumn("op type");
        foreach (var r in rows) table.AddColumn(new TableColumn(r.Label).RightAligned());
        foreach (var (op, cells) in ProfileCells(rows)) table.AddRow(new[] { Markup.Escape(op) }.Concat(cells).ToArray());
        return table;
    }

    private static IEnumerable<(string Op, string[] Cells)> ProfileCells(IReadOnlyList<Row> rows)
    {
        var ops = ProfileOpTypes(rows);
        var shown = ops.Take(ProfileRows).ToArray();
        foreach (var op in shown)
            yield return (op, rows.Select(r => ProfileCell(r, r.Profile.GetValueOrDefault(op))).ToArray());
        if (ops.Count > shown.Length)
            yield return ("(other op types)", rows.Select(r => ProfileCell(r, TimeSpan.FromTicks(r.Profile.Where(kv => !shown.Contains(kv.Key)).Sum(kv => kv.Value.Ticks)))).ToArray());
        yield return ("(outside operators)", rows.Select(r => ProfileCell(r, OutsideOperators(r))).ToArray());
    }

    private static string ProfileCell(Row r, TimeSpan t) =>
        r.ProfileRuns == 0 ? "-" : $"{Ms(t.TotalMilliseconds / r.ProfileRuns)} ({100 * Share(r, t):0}%)";

    private static void WriteMarkdown(string path, CommandContext context, LoadedModel model, IReadOnlyList<Row> rows, bool hasSequence, Settings settings, int threads)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Sparrow vs ONNX Runtime: {model.DisplayName}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `{context.CommandLine}`.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {MachineInfo.CpuModel}, {MachineInfo.LogicalCores} logical cores; {MachineInfo.VectorIsa}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {MachineInfo.Runtime}; ONNX Runtime {OrtModelRunner.Version} (intra-op spinning off, so that it does not take the cores while Sparrow runs)");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {threads} thread(s) each; {settings.Warmup} warm-up runs of each engine (and at least {MinimumWarmup.TotalSeconds:0} s of them), then {settings.Runs} timed runs alternating Sparrow and ONNX Runtime; latency in ms, median (p25-p75)");
        md.AppendLine();
        md.Append("| batch |");
        if (hasSequence) md.Append(" seq |");
        md.AppendLine(" Sparrow | ONNX Runtime | Sparrow / ORT | Sparrow GFLOP/s | ORT GFLOP/s |");
        md.Append("|---:|");
        if (hasSequence) md.Append("---:|");
        md.AppendLine("---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {r.Batch} |");
            if (hasSequence) md.Append(CultureInfo.InvariantCulture, $" {r.Sequence} |");
            md.AppendLine($" {Spread(r.Sparrow)} | {Spread(r.Ort)} | {Ratio(r.Ratio)} | {Gflops(r.Flops, r.Sparrow.Median)} | {Gflops(r.Flops, r.Ort.Median)} |");
        }
        if (settings.Profile && rows.Any(r => r.ProfileRuns > 0))
        {
            md.AppendLine();
            md.AppendLine("Where Sparrow's time goes, per op type: ms per run (share of the run).");
            md.AppendLine();
            md.AppendLine("| op type | " + string.Join(" | ", rows.Select(r => r.Label)) + " |");
            md.AppendLine("|---|" + string.Concat(rows.Select(_ => "---:|")));
            foreach (var (op, cells) in ProfileCells(rows)) md.AppendLine($"| {op} | " + string.Join(" | ", cells) + " |");
        }
        var existing = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        var separator = existing.EndsWith("\n\n", StringComparison.Ordinal) ? "" : existing.EndsWith('\n') ? "\n" : "\n\n";
        Sparrow.Graph.AtomicFile.WriteAllText(path, existing + separator + md);
    }

    private static string Ms(double ms) => ms.ToString(ms >= 100 ? "0" : ms >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private static string Spread(Stats s) => $"{Ms(s.Median)} ({Ms(s.P25)}-{Ms(s.P75)})";

    private static string Ratio(double r) => r.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    private static string Gflops(long flops, double ms) => flops == 0 ? "-" : (flops / (ms * 1e6)).ToString("0.0", CultureInfo.InvariantCulture);
}
