using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Pruning;

/// <summary>
/// The general pruner: selects targets, scores each weight (the method's criterion or
/// <see cref="PruneSettings.Criterion"/>), turns the scores into masks that follow the pattern
/// (<see cref="MaskSelector"/>) and zeroes the pruned weights. Works on a copy: the model passed in keeps its weights.
/// Every request is checked against every target before any weight is touched.
/// </summary>
public static class Pruner
{
    /// <summary>Prunes a copy of <paramref name="model"/> as <paramref name="settings"/> say and returns it with what happened to each target weight.</summary>
    /// <exception cref="PruningRequestException">The request does not fit the model (no target, a pattern that does not fit a weight, a sparsity out of range); nothing is pruned.</exception>
    /// <param name="progress">Told (targets masked, targets) as the masks are chosen, for a progress bar.</param>
    public static (Model Pruned, IReadOnlyList<LayerSparsity> Layers) Prune(Model model, PruneSettings settings, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var pattern = settings.Pattern;
        var sparsity = settings.CheckedSparsity();

        var pruned = model.Clone();
        var graph = pruned.Graph;
        var targets = SelectTargets(graph, settings);
        CheckOverrides(targets, settings);
        foreach (var t in targets)
        {
            var (rows, columns) = WeightLayout.OutByInShape(t);
            pattern.CheckFits(t.WeightName, rows, columns);
        }

        var scope = settings.EffectiveScope;
        var weights = new float[targets.Count][];
        var scores = new float[targets.Count][];
        for (var i = 0; i < targets.Count; i++)
        {
            weights[i] = WeightLayout.ToOutByIn(targets[i], graph.Initializers[targets[i].WeightName].As<float>().Span);
            scores[i] = Score(targets[i], weights[i], settings);
            if (scores[i].Length != weights[i].Length)
                throw new InvalidOperationException($"The criterion gave {scores[i].Length} scores for '{targets[i].WeightName}', which has {weights[i].Length} weights.");
        }

        var masks = new bool[targets.Count][];
        var global = new List<int>();
        var masked = 0;
        for (var i = 0; i < targets.Count; i++)
        {
            var overridden = settings.LayerSparsity.TryGetValue(targets[i].WeightName, out var own);
            if (scope == ComparisonScope.Global && !overridden)
            {
                global.Add(i);
                continue;
            }
            var (rows, columns) = WeightLayout.OutByInShape(targets[i]);
            masks[i] = MaskSelector.Select(scores[i], rows, columns, pattern, overridden ? own : sparsity,
                scope == ComparisonScope.Global ? ComparisonScope.Layer : scope, settings.BlockScore, targets[i].WeightName);
            progress?.Invoke(++masked, targets.Count);
        }
        if (global.Count > 0)
        {
            var layers = global.Select(i =>
            {
                var (rows, columns) = WeightLayout.OutByInShape(targets[i]);
                return new LayerScores(targets[i].WeightName, scores[i], rows, columns);
            }).ToArray();
            var globalMasks = MaskSelector.SelectGlobal(layers, pattern, sparsity, settings.BlockScore);
            for (var j = 0; j < global.Count; j++) masks[global[j]] = globalMasks[j];
            progress?.Invoke(targets.Count, targets.Count);
        }

        var results = new List<LayerSparsity>();
        for (var i = 0; i < targets.Count; i++)
        {
            var target = targets[i];
            var values = weights[i];
            var mask = masks[i];
            for (var k = 0; k < values.Length; k++)
                if (!mask[k]) values[k] = 0;
            var stored = new float[values.Length];
            WeightLayout.FromOutByIn(target, values, stored);
            graph.Initializers[target.WeightName] = Tensor<float>.Wrap(stored, target.Shape);
            var zeros = 0L;
            foreach (var v in stored) if (v == 0) zeros++;
            double? wanted = settings.LayerSparsity.TryGetValue(target.WeightName, out var own) ? own
                : scope == ComparisonScope.Global ? null : sparsity;
            results.Add(new LayerSparsity(target.WeightName, target.Node.OpType, target.Shape, stored.Length, zeros)
            {
                TargetSparsity = wanted,
                Pattern = pattern.ToString(),
            });
        }
        return (pruned, results);
    }

    /// <summary>Every per-weight sparsity override names a selected target and is a sparsity the pattern allows.</summary>
    /// <exception cref="PruningRequestException">An override names no target, or its value is out of range for the pattern.</exception>
    internal static void CheckOverrides(IReadOnlyList<PruningTarget> targets, PruneSettings settings)
    {
        foreach (var (name, value) in settings.LayerSparsity)
        {
            if (!targets.Any(t => t.WeightName == name))
                throw new PruningRequestException($"The sparsity override for '{name}' names no pruned weight; the targets are: {string.Join(", ", targets.Select(t => t.WeightName))}.");
            MaskSelector.CheckSparsity(value, settings.Pattern);
        }
    }

    /// <summary>The targets <paramref name="settings"/> selects, each weight once (a weight shared by two products is pruned once).</summary>
    public static IReadOnlyList<PruningTarget> SelectTargets(ModelGraph graph, PruneSettings settings)
    {
        var seen = new HashSet<string>();
        var candidates = settings.Targets.Embeddings ? PruningTargets.Find(graph).Concat(PruningTargets.FindEmbeddings(graph)) : PruningTargets.Find(graph);
        var unique = candidates.Where(t => seen.Add(t.WeightName)).ToArray();
        return settings.Targets.Apply(unique);
    }

    private static float[] Score(PruningTarget target, float[] weight, PruneSettings settings)
    {
        if (settings.Criterion is { } criterion) return criterion(target, weight);
        switch (settings.Method)
        {
            case PruningMethod.Random:
                // One stream per weight name, so a weight's mask does not depend on which others are pruned with it.
                var random = new Random(unchecked(settings.Seed * 1_000_003 + StableHash(target.WeightName)));
                var scores = new float[weight.Length];
                for (var k = 0; k < scores.Length; k++) scores[k] = random.NextSingle();
                return scores;
            default:
                var magnitudes = new float[weight.Length];
                System.Numerics.Tensors.TensorPrimitives.Abs(weight, magnitudes);
                return magnitudes;
        }
    }

    /// <summary>FNV-1a: string.GetHashCode changes from run to run, and seeds must not.</summary>
    private static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var ch in text) hash = (hash ^ ch) * 16777619u;
        return (int)hash;
    }
}
