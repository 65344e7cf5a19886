using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.SparseGpt;
using Sparrow.Tensors;

namespace Sparrow.Pruning;

/// <summary>
/// The one-shot methods that read calibration data: Wanda (|W| times each input feature's norm, compared within
/// each output, then <see cref="Pruner"/>'s masks) and SparseGPT (masks chosen with the inverse Hessian of the
/// layer's inputs and the kept weights updated to make up for the pruned ones). Calibrates MatMul and Gemm
/// weights; a Conv target is refused with a message that says how to leave it out.
/// </summary>
public static class CalibratedPruner
{
    /// <summary>Wanda: one calibration run over the dense model, then every target pruned with its own scores.</summary>
    /// <param name="batches">Calibration inputs, read once, one batch at a time.</param>
    public static (Model Pruned, IReadOnlyList<LayerSparsity> Layers) Wanda(Model model, PruneSettings settings,
        IEnumerable<IReadOnlyDictionary<string, Tensor>> batches)
    {
        var targets = CheckTargets(model, settings, "wanda");
        var statistics = Calibrator.Run(model, targets, batches);
        return Pruner.Prune(model, WithWandaCriterion(settings, statistics));
    }

    /// <summary>
    /// <paramref name="settings"/> scoring by Wanda with statistics already gathered (one calibration reused for
    /// many prunings, e.g. by sensitivity analysis): |W| times each input feature's norm, compared per output.
    /// </summary>
    public static PruneSettings WithWandaCriterion(PruneSettings settings, IReadOnlyDictionary<string, LayerInputStatistics> statistics)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(statistics);
        var norms = statistics.ToDictionary(s => s.Key, s => s.Value.FeatureNorms());
        return settings with
        {
            // The weight arrives as [out, in]; input feature k is column k.
            Criterion = (target, weight) =>
            {
                if (!norms.TryGetValue(target.WeightName, out var featureNorms))
                    throw new InvalidOperationException($"Wanda: no calibration statistics for '{target.WeightName}'.");
                var scores = new float[weight.Length];
                for (var i = 0; i < weight.Length; i++) scores[i] = (float)(Math.Abs(weight[i]) * featureNorms[i % featureNorms.Length]);
                return scores;
            },
            Scope = settings.Scope ?? ComparisonScope.OutputRow,
        };
    }

    /// <summary>The targets Wanda would prune under <paramref name="settings"/>, checked (MatMul and Gemm only, pattern fits).</summary>
    public static IReadOnlyList<PruningTarget> WandaTargets(Model model, PruneSettings settings) => CheckTargets(model, settings, "wanda");

    /// <summary>
    /// SparseGPT, layer after layer as the paper does it: the targets that read the same input (Q, K and V) are
    /// calibrated together on the model with every earlier target already pruned and updated, so each layer makes
    /// up for the errors of the ones before it.
    /// </summary>
    /// <param name="batches">Makes the calibration inputs anew for each group of targets.</param>
    public static (Model Pruned, IReadOnlyList<LayerSparsity> Layers) SparseGpt(Model model, PruneSettings settings,
        Func<IEnumerable<IReadOnlyDictionary<string, Tensor>>> batches, Action<int, int>? progress = null)
    {
        var pattern = settings.Pattern;
        var sparsity = settings.CheckedSparsity();
        var pruned = model.Clone();
        var graph = pruned.Graph;
        var targets = CheckTargets(pruned, settings, "sparsegpt");
        var groups = targets.GroupBy(t => t.Node.Inputs[0]).Select(g => g.ToArray()).ToArray();
        var results = new Dictionary<string, LayerSparsity>();
        for (var g = 0; g < groups.Length; g++)
        {
            progress?.Invoke(g, groups.Length);
            var statistics = Calibrator.Run(pruned, groups[g], batches(), withHessian: true);
            foreach (var target in groups[g])
            {
                var own = settings.LayerSparsity.TryGetValue(target.WeightName, out var overridden) ? overridden : sparsity;
                var (rows, columns) = WeightLayout.OutByInShape(target);
                var weight = WeightLayout.ToOutByIn(target, graph.Initializers[target.WeightName].As<float>().Span);
                var stored = new float[weight.Length];
                // Pruning every weight leaves nothing for the solver to update: the layer is simply all zeros.
                if (own < 1)
                {
                    var result = SparseGptSolver.Prune(weight, rows, columns, statistics[target.WeightName].Hessian, Options(pattern, own));
                    WeightLayout.FromOutByIn(target, result.Weights, stored);
                }
                graph.Initializers[target.WeightName] = Tensor<float>.Wrap(stored, target.Shape);
                var zeros = stored.LongCount(v => v == 0);
                results[target.WeightName] = new LayerSparsity(target.WeightName, target.Node.OpType, target.Shape, stored.Length, zeros)
                {
                    TargetSparsity = own,
                    Pattern = pattern.ToString(),
                };
            }
        }
        progress?.Invoke(groups.Length, groups.Length);
        return (pruned, targets.Select(t => results[t.WeightName]).ToArray());
    }

    private static SparseGptOptions Options(PruningPattern pattern, double sparsity) => pattern.Kind switch
    {
        PatternKind.NM => SparseGptOptions.NOfM(pattern.N, pattern.M),
        PatternKind.Block => SparseGptOptions.Blocks(sparsity, pattern.BlockRows, pattern.BlockColumns),
        _ => SparseGptOptions.Unstructured(sparsity),
    };

    private static IReadOnlyList<PruningTarget> CheckTargets(Model model, PruneSettings settings, string method)
    {
        if (settings.Targets.Embeddings)
            throw new PruningRequestException($"{method} calibrates MatMul and Gemm weights, not embedding tables; prune embeddings with magnitude or random.");
        var targets = Pruner.SelectTargets(model.Graph, settings);
        if (targets.FirstOrDefault(t => !Calibrator.Supports(t)) is { } conv)
            throw new PruningRequestException(
                $"{method} calibrates MatMul and Gemm weights; '{conv.WeightName}' belongs to a {conv.Node.OpType}. Leave it out (e.g. --op-type MatMul,Gemm) or use magnitude.");
        Pruner.CheckOverrides(targets, settings);
        foreach (var t in targets)
        {
            var (rows, columns) = WeightLayout.OutByInShape(t);
            settings.Pattern.CheckFits(t.WeightName, rows, columns);
        }
        return targets;
    }
}
