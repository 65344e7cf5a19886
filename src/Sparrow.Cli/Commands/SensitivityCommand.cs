using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sparrow.Cli.Execution;
using Sparrow.Data.Text;
using Sparrow.Pruning;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Sensitivity;
using Sparrow.Tensors;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow sensitivity [MODEL.onnx] --method magnitude --sparsities 0.3,0.5,0.7 --allocate 0.7 --recipe-out plan.yaml</c>:
/// prunes each target weight alone at each sparsity, measures the quality drop, prints the table (and a heat map),
/// and proposes per-layer sparsities that reach an overall target with the least predicted loss.
/// </summary>
internal static class SensitivityCommand
{
    internal sealed record Settings(string? Model, string Method, string Sparsities)
    {
        public string[] Include { get; init; } = [];
        public string[] Exclude { get; init; } = [];
        public string[] OpTypes { get; init; } = [];
        public string? Calibration { get; init; }
        public string? Quality { get; init; }
        public double? Allocate { get; init; }
        public double MaxSparsity { get; init; } = SparsityAllocator.DefaultMaxSparsity;
        public double? Around { get; init; }
        public string? RecipeOut { get; init; }
        public string? Markdown { get; init; }
        public string? Json { get; init; }
        public string? Heatmap { get; init; }
        public int Threads { get; init; }
    }

    private static readonly string[] MethodNames = ["magnitude", "wanda", "random"];

    public static Command Create(CommandContext context)
    {
        var model = CommonOptions.ModelArgument("omitted, the embedded all-MiniLM-L6-v2");
        var method = new Option<string>("--method") { Description = "Criterion each weight is pruned by: magnitude, wanda (calibrated once on the dense model) or random.", DefaultValueFactory = _ => "magnitude" };
        var sparsities = new Option<string>("--sparsities") { Description = "Sparsities to prune each weight to, comma-separated.", DefaultValueFactory = _ => "0.3,0.5,0.7,0.8,0.9" };
        var include = new Option<string[]>("--include") { Description = "Analyse only weights whose name matches this regular expression (repeat for several).", DefaultValueFactory = _ => [] };
        var exclude = new Option<string[]>("--exclude") { Description = "Leave out weights whose name matches this regular expression (repeat for several).", DefaultValueFactory = _ => [] };
        var opTypes = new Option<string[]>("--op-type") { Description = "Analyse only weights of this operator type: MatMul, Gemm or Conv (repeat for several).", DefaultValueFactory = _ => [] };
        var calibration = new Option<string?>("--calibration") { Description = "Sentences (one per line) for wanda's statistics and the embedding loss (default: Sparrow's 64 calibration sentences, not the held-out ones)." };
        var quality = new Option<string?>("--quality") { Description = "embedding: 1 − mean cosine of sentence embeddings vs the dense model (default for sentence encoders); output: 1 − mean cosine of the outputs on generated inputs (default otherwise)." };
        var allocate = new Option<double?>("--allocate") { Description = "Propose per-layer sparsities with this parameter-weighted overall sparsity and the least predicted loss, e.g. 0.7." };
        var around = new Option<double?>("--around") { Description = "Measure each weight with every other weight pruned to this sparsity (the operating point, e.g. the --allocate target) instead of dense." };
        var maxSparsity = new Option<double>("--max-sparsity") { Description = "Highest sparsity the allocation gives a layer.", DefaultValueFactory = _ => SparsityAllocator.DefaultMaxSparsity };
        var recipeOut = new Option<string?>("--recipe-out") { Description = "Write the allocation as a recipe (.yaml/.yml or .json) for 'sparrow prune --recipe'." };
        var markdown = new Option<string?>("--markdown") { Description = "Append the table (and allocation) as Markdown to this file, with the command that made it." };
        var json = JsonOutput.Option("the curves (and allocation)");
        var heatmap = new Option<string?>("--heatmap") { Description = "Draw the table as a heat map: a .png (or .svg) file." };
        var threads = CommonOptions.Threads();
        var command = new Command("sensitivity", "Per-layer sensitivity: each weight pruned alone at several sparsities, the quality drop of each, and a non-uniform allocation.")
        {
            model, method, sparsities, include, exclude, opTypes, calibration, quality, allocate, maxSparsity, around, recipeOut, markdown, json, heatmap, threads,
        };
        command.SetAction(parse => Run(context, new Settings(parse.GetValue(model), parse.GetValue(method)!, parse.GetValue(sparsities)!)
        {
            Include = parse.GetValue(include) ?? [],
            Exclude = parse.GetValue(exclude) ?? [],
            OpTypes = parse.GetValue(opTypes) ?? [],
            Calibration = parse.GetValue(calibration),
            Quality = parse.GetValue(quality),
            Allocate = parse.GetValue(allocate),
            MaxSparsity = parse.GetValue(maxSparsity),
            Around = parse.GetValue(around),
            RecipeOut = parse.GetValue(recipeOut),
            Markdown = parse.GetValue(markdown),
            Json = JsonOutput.Target(parse, json),
            Heatmap = parse.GetValue(heatmap),
            Threads = parse.GetValue(threads),
        }));
        return command;
    }

    internal static int Run(CommandContext context, Settings settings)
    {
        var methodName = settings.Method.Trim().ToLowerInvariant();
        if (!MethodNames.Contains(methodName))
            throw new UsageException($"--method '{settings.Method}' is not available for sensitivity; use one of: {string.Join(", ", MethodNames)}.");
        var levels = ParseSparsities(settings.Sparsities);
        if (settings.RecipeOut is not null && settings.Allocate is null)
            throw new UsageException("--recipe-out writes the allocation; give --allocate with the overall sparsity, e.g. --allocate 0.7.");
        if (settings.Allocate is { } a && (double.IsNaN(a) || a < 0 || a >= 1))
            throw new UsageException($"--allocate must be between 0 and 1 (0 included, 1 not), got {a.ToString(CultureInfo.InvariantCulture)}.");
        if (double.IsNaN(settings.MaxSparsity) || settings.MaxSparsity < 0 || settings.MaxSparsity >= 1)
            throw new UsageException($"--max-sparsity must be between 0 and 1 (0 included, 1 not), got {settings.MaxSparsity.ToString(CultureInfo.InvariantCulture)}.");
        if (settings.Heatmap is { } h && Path.GetExtension(h).ToLowerInvariant() is not (".png" or ".svg"))
            throw new UsageException($"--heatmap {h}: give a .png or .svg file name.");
        var threads = CommonOptions.ResolveThreads(settings.Threads);
        var baseSettings = PruneCommand.ToSettings(new PruneCommand.Request(methodName, "unstructured", 0.5, 0, settings.Include, settings.Exclude)
        {
            OpTypes = settings.OpTypes,
            Calibration = methodName == "wanda" ? settings.Calibration : null,
        });

        var loaded = LoadedModel.Load(settings.Model);
        var isEncoder = loaded.Model.Graph.RequiredInputs.Any(i => i.Name == TokenBatch.InputIdsName);
        var qualityName = (settings.Quality ?? (isEncoder ? "embedding" : "output")).Trim().ToLowerInvariant();
        var sentences = PruneFiles.CalibrationSentences(settings.Calibration);
        var console = context.Console;
        var clock = Stopwatch.StartNew();
        SensitivityResult result;
        try
        {
            var (loss, withWanda) = context.Progress("Measuring the dense model", 1, step =>
            {
                QualityLoss loss = qualityName switch
                {
                    "embedding" when !isEncoder => throw new UsageException($"--quality embedding needs a sentence encoder (an input named input_ids); {loaded.DisplayName} has none. Use --quality output."),
                    "embedding" => QualityLosses.EmbeddingDrop(loaded.Model, sentences, threads),
                    "output" => QualityLosses.OutputDrop(loaded.Model, GeneratedInputs(loaded), threads),
                    _ => throw new UsageException($"--quality '{settings.Quality}' is not a quality measure; use embedding or output."),
                };
                var withWanda = baseSettings;
                if (methodName == "wanda")
                {
                    if (!isEncoder) throw new UsageException("--method wanda calibrates on sentences; from the command line that needs a sentence encoder (an input named input_ids). Use magnitude.");
                    withWanda = SensitivityAnalyzer.WithWanda(loaded.Model, baseSettings,
                        CalibrationSentences.Batches(sentences, inputNames: loaded.Model.Graph.RequiredInputs.Select(i => i.Name)));
                }
                step.Advance();
                return (loss, withWanda);
            });
            baseSettings = withWanda;
            // The analyzer reports its count of points (weights × sparsities) with its first call.
            result = context.Progress("Measuring each weight's sensitivity", 0, step =>
                SensitivityAnalyzer.Analyze(loaded.Model, loss, new SensitivityOptions { Sparsities = levels, Settings = baseSettings, Around = settings.Around, Progress = step.AsCallback() }));
        }
        catch (PruningRequestException e)
        {
            throw new UsageException(e.Message);
        }
        var seconds = clock.Elapsed.TotalSeconds;

        SparsityAllocation? allocation = null;
        if (settings.Allocate is { } target)
        {
            try
            {
                allocation = SparsityAllocator.Allocate(result.Curves, target, 0, settings.MaxSparsity);
            }
            catch (PruningRequestException e)
            {
                throw new UsageException("--allocate: " + e.Message);
            }
        }

        var what = $"{qualityName} loss (1 − mean cosine vs dense{(qualityName == "embedding" ? $", {sentences.Count} calibration sentences" : ", generated inputs")}), {methodName}, each weight pruned alone";
        // The shape 'sparrow report' reads: keep these names.
        var results = new
        {
            command = context.CommandLine,
            model = loaded.DisplayName,
            method = methodName,
            quality = qualityName,
            sparsities = levels,
            seconds,
            layers = result.Curves.Select(c => new { weight = c.WeightName, label = c.Label, opType = c.OpType, shape = c.Shape, parameters = c.Parameters, losses = c.Losses }),
            allocation = allocation is null ? null : new
            {
                target = allocation.TargetSparsity,
                achieved = allocation.AchievedSparsity,
                predictedLoss = allocation.PredictedLoss,
                uniformPredictedLoss = allocation.UniformPredictedLoss,
                layers = allocation.Sparsities.Select(kv => new { weight = kv.Key, sparsity = kv.Value }),
            },
        };
        JsonOutput.Write(context, settings.Json, results, () =>
        {
            var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape($"{loaded.DisplayName}: {what}"))
                .AddColumn("layer").AddColumn("weight").AddColumn(new TableColumn("params").RightAligned());
            foreach (var s in levels) table.AddColumn(new TableColumn(Percent(s)).RightAligned());
            if (allocation is not null) table.AddColumn(new TableColumn($"plan @{Percent(allocation.TargetSparsity)}").RightAligned());
            for (var i = 0; i < result.Curves.Count; i++)
            {
                var c = result.Curves[i];
                var cells = new List<string> { Markup.Escape(c.Label), Markup.Escape(c.WeightName), CommonOptions.FormatCount(c.Parameters) };
                cells.AddRange(c.Losses.Select(Loss));
                if (allocation is not null) cells.Add(Percent(allocation.Sparsities[i].Value, "0.0"));
                table.AddRow(cells.ToArray());
            }
            console.Write(table);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Curves.Count} weights × {levels.Length} sparsities measured in {seconds:0.0} s."));
            if (allocation is not null)
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"allocation: overall sparsity {allocation.AchievedSparsity:0.000000} (target {allocation.TargetSparsity}, {CommonOptions.FormatCount(allocation.Zeros)} of {CommonOptions.FormatCount(allocation.Parameters)} weights), "
                    + $"predicted summed loss {allocation.PredictedLoss:0.0000} vs {allocation.UniformPredictedLoss:0.0000} uniform."));
        });

        if (settings.RecipeOut is { } recipePath && allocation is not null)
        {
            var recipe = RecipeWriter.FromAllocation(allocation, methodName, baseSettings.Targets, calibration: methodName == "wanda" && settings.Calibration is { } cal ? Path.GetFullPath(cal) : null);
            RecipeWriter.Save(recipe, recipePath, $"Made by: {context.CommandLine}\nPer-layer sparsities from sensitivity analysis; overall (parameter-weighted) sparsity {allocation.AchievedSparsity:0.000000}.");
            context.Info(Markup.Escape($"recipe written to {recipePath}; apply it with: sparrow prune{(loaded.Path is { } p ? " " + p : "")} --recipe {recipePath} -o OUT.onnx"));
        }
        if (settings.Heatmap is { } heatmapPath)
        {
            SensitivityHeatmap.Save(heatmapPath, result, $"{Path.GetFileName(loaded.DisplayName)}: {methodName}, quality drop per layer");
            context.Info(Markup.Escape($"heat map written to {heatmapPath}"));
        }
        if (settings.Markdown is { } md) AppendMarkdown(md, context.CommandLine, what, result, allocation);
        return ExitCodes.Success;
    }

    internal static double[] ParseSparsities(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException("--sparsities needs at least one value, e.g. --sparsities 0.3,0.5,0.7.");
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || double.IsNaN(values[i]) || values[i] < 0 || values[i] >= 1)
                throw new UsageException($"--sparsities: '{parts[i]}' is not a sparsity between 0 and 1 (0 included, 1 not).");
        if (values.Distinct().Count() != values.Length) throw new UsageException("--sparsities lists a value twice.");
        return values.Order().ToArray();
    }

    private static IReadOnlyList<IReadOnlyDictionary<string, Tensor>> GeneratedInputs(LoadedModel loaded)
    {
        var generator = new InputGenerator(loaded.Model, batch: 4, sequence: 16);
        return Enumerable.Range(0, 4).Select(seed => (IReadOnlyDictionary<string, Tensor>)generator.Generate(seed)).ToArray();
    }

    private static string Percent(double value, string format = "0") => (value * 100).ToString(format, CultureInfo.InvariantCulture) + " %";

    private static string Loss(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static void AppendMarkdown(string path, string commandLine, string what, SensitivityResult result, SparsityAllocation? allocation)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Sensitivity: {what}, by `{commandLine}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC).");
        md.AppendLine();
        md.Append("| layer | weight | params |");
        foreach (var s in result.Sparsities) md.Append(' ').Append(Percent(s)).Append(" |");
        if (allocation is not null) md.Append(" plan @").Append(Percent(allocation.TargetSparsity)).Append(" |");
        md.AppendLine();
        md.Append("|---|---|---:|").Append(string.Concat(Enumerable.Repeat("---:|", result.Sparsities.Count + (allocation is null ? 0 : 1)))).AppendLine();
        for (var i = 0; i < result.Curves.Count; i++)
        {
            var c = result.Curves[i];
            md.Append(CultureInfo.InvariantCulture, $"| {c.Label} | {c.WeightName} | {c.Parameters} |");
            foreach (var l in c.Losses) md.Append(' ').Append(Loss(l)).Append(" |");
            if (allocation is not null) md.Append(' ').Append(Percent(allocation.Sparsities[i].Value, "0.0")).Append(" |");
            md.AppendLine();
        }
        if (allocation is not null)
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"Allocation: overall sparsity {allocation.AchievedSparsity:0.000000} (target {allocation.TargetSparsity}); predicted summed loss {allocation.PredictedLoss:0.0000} vs {allocation.UniformPredictedLoss:0.0000} uniform.");
        md.AppendLine();
        BenchOutput.AppendMarkdown(path, md.ToString(), title: null);
    }
}
