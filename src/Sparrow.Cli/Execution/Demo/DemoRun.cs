using System.Diagnostics;
using System.Globalization;
using Sparrow.Cli.Commands;
using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Spectre.Console;

using Sparrow.Cli.Execution.Report;

namespace Sparrow.Cli.Execution.Demo;

/// <summary>
/// <c>sparrow demo</c>'s work: prune the embedded MiniLM three ways, judge each pruned copy against the dense model
/// on shipped task samples, benchmark them all against ONNX Runtime, write everything to one folder, print a table.
/// </summary>
internal static class DemoRun
{
    public const string DenseFile = "dense.onnx";
    public const string EvalFile = "eval.json";
    public const string BenchFile = "bench.json";
    public const string BenchTablesFile = "bench.txt";
    public const string SummaryFile = "demo-summary.json";
    public const string ReportFile = "report.html";
    public const string ReportMarkdownFile = "report.md";

    public static int Run(CommandContext context, string outputFolder, int threadsOption, bool quick, string? jsonTarget)
    {
        var settings = quick ? DemoSettings.Quick : DemoSettings.Full;
        var threads = CommonOptions.ResolveThreads(threadsOption);
        if (string.IsNullOrWhiteSpace(outputFolder)) throw new UsageException("--out needs a folder name.");
        if (File.Exists(outputFolder)) throw new UsageException($"--out {outputFolder} is a file; give a folder (it is created when missing).");
        Directory.CreateDirectory(outputFolder);
        string Out(string name) => Path.Combine(outputFolder, name);
        var clock = Stopwatch.StartNew();

        var loaded = LoadedModel.Load(null);
        var dense = loaded.Model;
        var variants = DemoPruning.Variants;
        context.Info($"[bold]sparrow demo[/]: {Markup.Escape(DefaultModel.Name)} ({CommonOptions.FormatShort(ParameterGroups.Total(dense.Graph))} parameters, embedded) "
            + $"pruned three ways ({Markup.Escape(string.Join(", ", variants.Select(v => v.Title)))}), judged and benchmarked on {threads} thread(s); "
            + $"files go to [bold]{Markup.Escape(outputFolder)}[/].");
        var tasks = DemoEvaluation.LoadTasks(settings);

        var calibration = CalibrationSentences.Sample.Take(settings.CalibrationSentences).ToArray();
        var pruned = context.Progress($"Pruning on {calibration.Length} calibration sentences", variants.Count,
            step => DemoPruning.Run(dense, calibration, step));

        var paths = new List<string> { Out(DenseFile) };
        paths.AddRange(pruned.Select(p => Out(p.Variant.FileName)));
        context.Progress("Writing the models", paths.Count, step =>
        {
            // The dense model is written too: the benchmark reads models from files, and it is the baseline for later runs.
            PruneFiles.Save(dense, paths[0]);
            step.Advance(paths[0]);
            for (var i = 0; i < pruned.Count; i++)
            {
                PruneFiles.Save(pruned[i].Model, paths[i + 1], compact: true);
                step.Advance(paths[i + 1]);
            }
        });

        var sentences = DemoEvaluation.Sentences(settings.FidelitySentences);
        var quality = context.Progress($"Evaluating on {sentences.Count} held-out sentences and {string.Join(", ", tasks.Select(t => $"{t.Dataset.Items.Count} {t.Name}"))} items",
            1 + pruned.Count, step => DemoEvaluation.Run(dense, paths[0], pruned.Select((p, i) => (paths[i + 1], p.Model)).ToArray(), sentences, tasks, threads, step));
        BenchOutput.WriteJson(Out(EvalFile), DemoEvaluation.Json(context.CommandLine, paths[0], tasks, quality));

        var shapes = CommonOptions.ParseSizes(settings.Batches, "--batch").Length * CommonOptions.ParseSizes(settings.Sequences, "--seq").Length;
        var speed = context.Progress($"Benchmarking against ONNX Runtime (batch {settings.Batches}, sequence {settings.Sequences})", shapes * paths.Count,
            step => DemoBenchmark.Run(context, paths, settings, threads, Out(BenchFile), Out(BenchTablesFile), step));

        // The report reads what the demo wrote, as `sparrow report` would: the eval and bench JSON and the models.
        context.Progress("Writing the report", 1, step =>
        {
            ReportBuilder.Write([Out(EvalFile), Out(BenchFile), .. paths], Out(ReportFile), Out(ReportMarkdownFile), "sparrow demo: all-MiniLM-L6-v2, dense and pruned");
            step.Advance();
        });
        var summary = Summarize(context, settings, outputFolder, threads, paths, pruned, quality, tasks, speed, clock.Elapsed);
        BenchOutput.WriteJson(Out(SummaryFile), summary);

        JsonOutput.Write(context, jsonTarget, summary, () =>
        {
            context.Console.Write(DemoSummary.Table(summary));
            context.Console.MarkupLine($"Wrote the models, {EvalFile}, {BenchFile} ({BenchTablesFile} has the full benchmark tables), {SummaryFile} and the report ({ReportFile}, {ReportMarkdownFile} with its plots) to [bold]{Markup.Escape(outputFolder)}[/].");
        });
        context.Info($"[grey]The demo took {clock.Elapsed.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s.[/]");
        return ExitCodes.Success;
    }

    private static DemoSummaryData Summarize(CommandContext context, DemoSettings settings, string outputFolder, int threads, IReadOnlyList<string> paths,
        IReadOnlyList<PrunedVariant> pruned, IReadOnlyList<EvalCommand.Result> quality, IReadOnlyList<Sparrow.Data.Evaluation.Tasks.TextClassificationTask> tasks,
        DemoBenchResult speed, TimeSpan elapsed)
    {
        var labels = paths.Select(Path.GetFileName).ToArray();
        var denseLatency = speed.Latencies.Where(l => l.Model == labels[0]).ToArray();
        var allParameters = ParameterGroups.Total(pruned[0].Model.Graph);
        var rows = new List<DemoRow>();
        for (var i = 0; i < paths.Count; i++)
        {
            var variant = i == 0 ? null : pruned[i - 1];
            var latency = speed.Latencies.Where(l => l.Model == labels[i]).Select(l =>
            {
                var baseline = denseLatency.First(d => d.Batch == l.Batch && d.Sequence == l.Sequence);
                return new DemoShapeResult(l.Batch, l.Sequence, l.SparrowMs, l.OrtMs, baseline.SparrowMs / l.SparrowMs, baseline.OrtMs / l.SparrowMs,
                    l.SparrowJoules, l.EnergyMethod);
            }).ToArray();
            var weights = speed.Weights.FirstOrDefault(w => w.Model == labels[i]) ?? throw new InvalidOperationException($"The benchmark has no weight figures for {labels[i]}.");
            rows.Add(new DemoRow(
                variant?.Variant.Name ?? "dense", variant?.Variant.Title ?? "dense", paths[i], variant?.Variant.Method, variant?.Variant.Pattern,
                variant?.TargetSparsity ?? 0, variant is null ? 0 : (double)variant.Layers.Sum(l => l.Zeros) / allParameters,
                quality[i].MeanCosine, quality[i].MinCosine, quality[i].Tasks.ToDictionary(t => t.Task, t => t.Accuracy), latency,
                weights.InitializerBytes, weights.SessionWeightBytes, new FileInfo(paths[i]).Length, DemoSummary.Kernels(weights.KernelChoices)));
        }
        string Out(string name) => Path.Combine(outputFolder, name);
        var files = new Dictionary<string, string>
        {
            ["eval"] = Out(EvalFile),
            ["bench"] = Out(BenchFile),
            ["benchTables"] = Out(BenchTablesFile),
            ["summary"] = Out(SummaryFile),
            ["report"] = Out(ReportFile),
            ["reportMarkdown"] = Out(ReportMarkdownFile),
        };
        for (var i = 0; i < paths.Count; i++) files[rows[i].Variant] = paths[i];
        return new DemoSummaryData(context.CommandLine, DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), Math.Round(elapsed.TotalSeconds, 1),
            settings.IsQuick, outputFolder, BenchOutput.Machine(threads), files,
            tasks.Select(t => (object)new { name = t.Name, classes = t.Dataset.ClassNames, trainItems = t.Split.Train.Count, testItems = t.Split.Test.Count }).ToArray(),
            rows);
    }
}
