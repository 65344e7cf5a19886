using Sparrow.Cli.Commands;
using Sparrow.Graph;
using Sparrow.Pruning;
using Sparrow.Pruning.Calibration;
using Sparrow.Tensors;

namespace Sparrow.Cli.Execution.Demo;

/// <summary>One pruned copy of the model that the demo makes, and how.</summary>
/// <param name="Name">File stem and row label, e.g. "wanda-50".</param>
/// <param name="Title">What a reader sees, e.g. "Wanda 50%".</param>
internal sealed record DemoVariant(string Name, string Title, string Method, string Pattern, double? Sparsity)
{
    public string FileName => Name + ".onnx";
}

/// <summary>A variant once pruned: the model and what each weight lost.</summary>
internal sealed record PrunedVariant(DemoVariant Variant, Model Model, IReadOnlyList<LayerSparsity> Layers)
{
    /// <summary>Zeros over the pruned weights' parameters.</summary>
    public double TargetSparsity => (double)Layers.Sum(l => l.Zeros) / Layers.Sum(l => l.Parameters);
}

/// <summary>
/// The demo's pruning, through the library as <c>sparrow prune</c> does it: Wanda at 50% and at 2:4 share one
/// calibration run; the 90% variant uses SparseGPT, which keeps MiniLM far closer to dense there than Wanda does
/// (see BENCHMARKS.md) at a cost the 5-minute budget allows.
/// </summary>
internal static class DemoPruning
{
    public static IReadOnlyList<DemoVariant> Variants { get; } =
    [
        new("wanda-50", "Wanda 50%", "wanda", "unstructured", 0.5),
        new("wanda-2-4", "Wanda 2:4", "wanda", "2:4", null),
        new("sparsegpt-90", "SparseGPT 90%", "sparsegpt", "unstructured", 0.9),
    ];

    /// <summary>Prunes every variant of <paramref name="dense"/>, one progress step each.</summary>
    public static IReadOnlyList<PrunedVariant> Run(Model dense, IReadOnlyList<string> calibration, ProgressStep progress)
    {
        var inputNames = dense.Graph.Inputs.Select(i => i.Name).ToArray();
        IEnumerable<IReadOnlyDictionary<string, Tensor>> Batches() => CalibrationSentences.Batches(calibration, inputNames: inputNames);
        IReadOnlyDictionary<string, LayerInputStatistics>? wandaStatistics = null;
        var results = new List<PrunedVariant>();
        foreach (var variant in Variants)
        {
            var settings = PruneCommand.ToSettings(new PruneCommand.Request(variant.Method, variant.Pattern, variant.Sparsity, 0, [], []));
            var (pruned, layers) = variant.Method switch
            {
                "wanda" => Pruner.Prune(dense, CalibratedPruner.WithWandaCriterion(settings,
                    wandaStatistics ??= Calibrator.Run(dense, CalibratedPruner.WandaTargets(dense, settings), Batches()))),
                "sparsegpt" => CalibratedPruner.SparseGpt(dense, settings, Batches),
                _ => Pruner.Prune(dense, settings),
            };
            PruningRecord.Of(variant.Method, settings.Pattern.ToString(), layers).WriteTo(pruned);
            results.Add(new PrunedVariant(variant, pruned, layers));
            progress.Advance(variant.Title);
        }
        return results;
    }
}
