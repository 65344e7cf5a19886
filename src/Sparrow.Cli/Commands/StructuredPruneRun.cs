using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Structured;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow prune --remove-heads 0.25 --remove-neurons 0.25 --remove-layers 1 -o OUT.onnx</c>: structured pruning
/// of a transformer encoder; the model really shrinks (smaller matrices, fewer heads and layers).
/// </summary>
internal static class StructuredPruneRun
{
    /// <summary>Batch and sequence at which FLOPs are counted before and after.</summary>
    private const int FlopBatch = 1, FlopSequence = 128;

    internal sealed record Request(double Heads, double Neurons, int Layers, int Seed, string? Calibration);

    internal static StructuredPruneSettings ToSettings(Request request, IReadOnlyList<string>? sentences)
    {
        foreach (var (option, value) in new[] { ("--remove-heads", request.Heads), ("--remove-neurons", request.Neurons) })
            if (double.IsNaN(value) || value < 0 || value >= 1)
                throw new UsageException($"{option} must be a fraction of each layer's to remove, at least 0 and below 1, got {value.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Layers < 0) throw new UsageException($"--remove-layers must be 0 or more, got {request.Layers}.");
        return new StructuredPruneSettings
        {
            HeadFraction = request.Heads,
            NeuronFraction = request.Neurons,
            LayersToRemove = request.Layers,
            Seed = request.Seed,
            CalibrationSentences = sentences,
        };
    }

    internal static int Run(CommandContext context, string? modelPath, Request request, string outputPath, string? json = null, string? recipePath = null)
    {
        var sentences = request.Calibration is null ? null : PruneFiles.CalibrationSentences(request.Calibration);
        var settings = ToSettings(request, sentences);
        PruneFiles.RefuseInputAsOutput(modelPath, outputPath);
        var console = context.Console;
        var loaded = LoadedModel.Load(modelPath);
        Model pruned;
        StructuredPruneReport report;
        try
        {
            var count = (sentences ?? CalibrationSentences.Sample).Count;
            if (settings.HeadFraction > 0 || settings.NeuronFraction > 0 || settings.LayersToRemove > 0)
                context.Info($"Measuring importance on {count} calibration sentences" + (settings.HeadFraction > 0 ? " (one run per attention head)..." : "..."));
            // The step count is the library's to say (batches times layers); it reports it with the first step.
            (pruned, report) = context.Progress("Measuring importance", 0, step => StructuredPruner.Prune(loaded.Model, settings, step.AsCallback()));
        }
        catch (PruningRequestException e)
        {
            throw new UsageException($"{loaded.DisplayName}: {e.Message}");
        }

        var (flopsBefore, flopsAfter) = context.Progress("Counting FLOPs", 2, step =>
        {
            var before = Flops(loaded.Model);
            step.Advance();
            var after = Flops(pruned);
            step.Advance();
            return (before, after);
        });
        PruneFiles.Save(pruned, outputPath);
        var results = new
        {
            command = context.CommandLine,
            model = loaded.DisplayName,
            output = outputPath,
            outputBytes = new FileInfo(outputPath).Length,
            recipe = recipePath,
            method = "structured",
            pattern = "structured",
            removeHeads = request.Heads,
            removeNeurons = request.Neurons,
            removeLayers = request.Layers,
            seed = request.Seed,
            layers = report.Layers.Select(l => new
            {
                layer = l.Layer,
                removed = l.Removed,
                headsBefore = l.HeadsBefore,
                headsAfter = l.HeadsAfter,
                removedHeads = l.RemovedHeads,
                neuronsBefore = l.NeuronsBefore,
                neuronsAfter = l.NeuronsAfter,
                importance = l.Importance,
            }),
            totals = new
            {
                layersRemoved = report.LayersRemoved,
                headsRemoved = report.HeadsRemoved,
                neuronsRemoved = report.NeuronsRemoved,
                parametersBefore = report.ParametersBefore,
                parametersAfter = report.ParametersAfter,
                flopBatch = FlopBatch,
                flopSequence = FlopSequence,
                flopsBefore,
                flopsAfter,
            },
        };
        JsonOutput.Write(context, json, results, () =>
        {
            var table = new Table().Border(TableBorder.Simple).Title("structured pruning")
                .AddColumn(new TableColumn("layer").RightAligned()).AddColumn(new TableColumn("heads").RightAligned())
                .AddColumn("removed heads").AddColumn(new TableColumn("FFN neurons").RightAligned()).AddColumn(new TableColumn("1 - cos(in, out)").RightAligned());
            foreach (var l in report.Layers)
                table.AddRow(l.Layer.ToString(CultureInfo.InvariantCulture),
                    l.Removed ? "layer removed" : $"{l.HeadsBefore} -> {l.HeadsAfter}",
                    l.Removed ? "" : string.Join(" ", l.RemovedHeads),
                    l.Removed ? "" : $"{l.NeuronsBefore} -> {l.NeuronsAfter}",
                    l.Importance is { } i ? i.ToString("F4", CultureInfo.InvariantCulture) : "");
            console.Write(table);
            console.MarkupLine($"Removed {report.LayersRemoved} layer(s), and from the other layers {report.HeadsRemoved} heads and {CommonOptions.FormatCount(report.NeuronsRemoved)} FFN neurons.");
            console.MarkupLine($"Parameters: {CommonOptions.FormatCount(report.ParametersBefore)} -> {CommonOptions.FormatCount(report.ParametersAfter)} " +
                $"({1 - (double)report.ParametersAfter / report.ParametersBefore:P1} fewer).");
            if (flopsBefore > 0 && flopsAfter > 0)
                console.MarkupLine($"FLOPs at batch {FlopBatch}, sequence {FlopSequence}: {FlopCounter.Format(flopsBefore)} -> {FlopCounter.Format(flopsAfter)} " +
                    $"({1 - (double)flopsAfter / flopsBefore:P1} fewer).");
            console.MarkupLine($"Wrote [bold]{Markup.Escape(outputPath)}[/].");
        });
        return ExitCodes.Success;
    }

    /// <summary>A recipe with a <c>structured</c> part: seed and calibration apply, the unstructured fields may not be given.</summary>
    internal static int RunRecipe(CommandContext context, string? modelPath, PruningRecipe recipe, string recipePath, string outputPath, string? json = null)
    {
        var structured = recipe.Structured!;
        foreach (var field in new[] { "method", "pattern", "sparsity", "targets", "layerSparsity", "allocation" })
            if (recipe.LineOf(field) is { } line)
                throw new UsageException($"{recipePath}: line {line}, field '{field}': cannot be combined with 'structured'; prune structurally first, then prune the result with a second recipe.");
        try
        {
            return Run(context, modelPath, new Request(structured.Heads, structured.Neurons, structured.Layers, recipe.Seed, recipe.Calibration), outputPath, json, recipePath);
        }
        catch (UsageException e) when (new[] { ("--remove-heads", "structured.heads"), ("--remove-neurons", "structured.neurons"), ("--remove-layers", "structured.layers") }
            .FirstOrDefault(f => e.Message.StartsWith(f.Item1, StringComparison.Ordinal)) is { Item2: { } field })
        {
            var where = recipe.LineOf(field) is { } l ? $"line {l}, field '{field}'" : $"field '{field}'";
            throw new UsageException($"{recipePath}: {where}: {e.Message}");
        }
    }

    private static long Flops(Model model)
    {
        var inputs = new InputGenerator(model, FlopBatch, FlopSequence).Generate(seed: 0);
        return FlopCounter.Measure(model, inputs, threads: 0).Sum(f => f.Flops);
    }
}
