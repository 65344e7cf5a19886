using System.CommandLine;
using Sparrow.Cli.Execution;
using Sparrow.Tensors.Sparse;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow bench kernels</c>: every chosen sparse kernel of <see cref="SparseKernelTable"/> against our dense
/// GEMM and ONNX Runtime's MatMul at MiniLM's and LLM-like weight shapes, row counts and sparsity levels, in
/// one quick table, with the memory bandwidth bound at one row and where sparse stops paying.
/// </summary>
internal static class KernelBenchCommand
{
    /// <summary>One kernel per format family: enough for a default run of a few minutes; --kernels all for every entry.</summary>
    public static readonly string[] DefaultKernels = ["CSR", "BSR 16x1", "Bitmask", "NM 2:4", "NM 2:4 panels"];

    public static Command Create(CommandContext context)
    {
        var kernels = new Option<string>("--kernels")
        {
            Description = $"Sparse kernels by name, comma-separated, or 'all'; known: {string.Join(", ", SparseKernelTable.All.Select(e => e.Name))}.",
            DefaultValueFactory = _ => string.Join(",", DefaultKernels),
        };
        var shapes = new Option<string>("--shapes")
        {
            Description = "Weight shapes OUTxIN, comma-separated.",
            DefaultValueFactory = _ => string.Join(",", KernelShape.Defaults.Select(s => s.Name)),
        };
        var rows = new Option<string>("--rows") { Description = "Rows of X (tokens at once), comma-separated.", DefaultValueFactory = _ => "1,8,32,128" };
        var sparsity = new Option<string>("--sparsity")
        {
            Description = "Sparsity levels: percentages (unstructured, by magnitude) and N:M patterns, comma-separated.",
            DefaultValueFactory = _ => "50,70,80,90,95,2:4",
        };
        var threads = CommonOptions.Threads();
        var runs = new Option<int>("--runs") { Description = "Timed turns of every candidate per shape, row count and sparsity, at least.", DefaultValueFactory = _ => 5 };
        var time = new Option<double>("--time") { Description = "Seconds of timed turns per shape, row count and sparsity, at least (when --runs is reached sooner).", DefaultValueFactory = _ => 0.4 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of untimed turns before each group is timed.", DefaultValueFactory = _ => 0.2 };
        var bandwidthBuffer = new Option<int>("--bandwidth-mb") { Description = "Size of the buffer read to measure the memory bandwidth, MB (far larger than the caches).", DefaultValueFactory = _ => 1024 };
        var noOrt = new Option<bool>("--no-ort") { Description = "Skip ONNX Runtime's MatMul." };
        var seed = new Option<int>("--seed") { Description = "Seed for the weights, masks and inputs.", DefaultValueFactory = _ => 0 };
        var markdown = new Option<string?>("--markdown") { Description = "Append the tables to this Markdown file (e.g. BENCHMARKS.md), with the command that made them." };
        var json = JsonOutput.Option();
        var command = new Command("kernels", "Measures the sparse kernels against dense GEMM and ONNX Runtime's MatMul per weight shape, row count and sparsity.")
        {
            kernels, shapes, rows, sparsity, threads, runs, time, warmup, bandwidthBuffer, noOrt, seed, markdown, json,
        };
        command.SetAction(parse => Run(context, parse.GetValue(kernels)!, parse.GetValue(shapes)!, parse.GetValue(rows)!, parse.GetValue(sparsity)!,
            parse.GetValue(threads), parse.GetValue(runs), parse.GetValue(time), parse.GetValue(warmup), parse.GetValue(bandwidthBuffer),
            !parse.GetValue(noOrt), parse.GetValue(seed), parse.GetValue(markdown), JsonOutput.Target(parse, json)));
        return command;
    }

    /// <summary>"CSR,BSR 1x4" or "all" as table entries.</summary>
    public static SparseKernelTable.Entry[] ParseKernels(string text)
    {
        if (string.Equals(text.Trim(), "all", StringComparison.OrdinalIgnoreCase)) return SparseKernelTable.All.ToArray();
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new UsageException("--kernels needs at least one kernel name, or 'all'.");
        var result = new List<SparseKernelTable.Entry>();
        foreach (var name in names)
        {
            var entry = SparseKernelTable.All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new UsageException($"--kernels: no sparse kernel named '{name}'; known: {string.Join(", ", SparseKernelTable.All.Select(e => e.Name))}, or 'all'.");
            if (!result.Contains(entry)) result.Add(entry);
        }
        return result.ToArray();
    }

    private static int Run(CommandContext context, string kernels, string shapes, string rows, string sparsity, int threads, int runs,
        double time, double warmup, int bandwidthMb, bool withOrt, int seed, string? markdown, string? json)
    {
        var console = context.Console;
        if (runs < 1) throw new UsageException($"--runs must be at least 1, got {runs}.");
        if (!double.IsFinite(time) || time < 0) throw new UsageException($"--time must be 0 or more seconds, got {time}.");
        if (!double.IsFinite(warmup) || warmup < 0) throw new UsageException($"--warmup must be 0 or more seconds, got {warmup}.");
        if (bandwidthMb < 1) throw new UsageException($"--bandwidth-mb must be at least 1, got {bandwidthMb}.");
        BenchOutput.CheckFileOption(markdown, "--markdown");
        var settings = new KernelBenchSettings(
            KernelShape.Parse(shapes), CommonOptions.ParseSizes(rows, "--rows"), SparsityLevel.Parse(sparsity), ParseKernels(kernels),
            CommonOptions.ResolveThreads(threads), runs, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(time), (long)bandwidthMb << 20, seed, withOrt);

        context.Info($"CPU {Markup.Escape(MachineInfo.CpuModel)}, {MachineInfo.LogicalCores} logical cores, {Markup.Escape(MachineInfo.VectorIsa)}; {settings.Threads} thread(s)");
        context.Info($"Kernels: {Markup.Escape(string.Join(", ", settings.Kernels.Select(k => k.Name)))}; against dense GEMM{(withOrt ? $" and ONNX Runtime {OrtModelRunner.Version} MatMul" : "")}");
        var results = context.Progress("Measuring kernels", KernelBench.Groups(settings), step =>
            KernelBench.Run(settings, line => step.Advance(line), line => context.Info("  " + Markup.Escape(line))));

        JsonOutput.Write(context, json, KernelBenchReport.Json(results, context.CommandLine), () =>
        {
            foreach (var line in KernelBenchReport.Preamble(results)) console.MarkupLine(Markup.Escape(line));
            foreach (var t in KernelBenchReport.Tables(results))
            {
                var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape(t.Title));
                for (var i = 0; i < t.Headers.Length; i++)
                    table.AddColumn(i < t.TextColumns ? new TableColumn(Markup.Escape(t.Headers[i])) : new TableColumn(Markup.Escape(t.Headers[i])).RightAligned());
                foreach (var row in t.Rows) table.AddRow(row.Select(Markup.Escape).ToArray());
                console.Write(table);
            }
        });
        if (markdown is not null)
        {
            BenchOutput.AppendMarkdown(markdown, KernelBenchReport.Markdown(results, context.CommandLine));
            context.Info($"Appended the results to [bold]{Markup.Escape(markdown)}[/].");
        }
        return ExitCodes.Success;
    }
}
