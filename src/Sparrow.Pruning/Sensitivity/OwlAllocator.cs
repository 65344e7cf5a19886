using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Structured;

namespace Sparrow.Pruning.Sensitivity;

/// <summary>Which weights share one OWL sparsity.</summary>
public enum OwlGrouping
{
    /// <summary>Every weight of a transformer layer together (as the OWL paper does); weights outside the recognised layers each on their own.</summary>
    Layer,

    /// <summary>Each weight on its own.</summary>
    Weight,
}

/// <summary>The knobs of <see cref="OwlAllocator"/>.</summary>
public sealed record OwlOptions
{
    /// <summary>M: a score counts as an outlier above M times its group's mean score (the paper uses 5 to 7 for LLaMA).</summary>
    public double OutlierThreshold { get; init; } = 5;

    /// <summary>λ: sparsities are spread over [target − λ, target + λ] before the shift that makes their weighted mean the target.</summary>
    public double Lambda { get; init; } = 0.08;

    /// <summary>Which weights share a sparsity.</summary>
    public OwlGrouping Grouping { get; init; } = OwlGrouping.Layer;
}

/// <summary>One group of weights that gets one sparsity, with its outlier ratio.</summary>
/// <param name="Name">"layer 3", or the weight's name when it stands alone.</param>
/// <param name="Weights">The group's weights and their parameter counts.</param>
/// <param name="OutlierRatio">D: the fraction of the group's scores above M times their mean.</param>
public sealed record OwlGroup(string Name, IReadOnlyList<KeyValuePair<string, long>> Weights, double OutlierRatio)
{
    /// <summary>Parameters of all the group's weights.</summary>
    public long Parameters => Weights.Sum(w => w.Value);
}

/// <summary>An OWL plan: each weight's sparsity and each group's outlier ratio and sparsity.</summary>
/// <param name="Sparsities">Weight name → sparsity, each a whole number of weights; their parameter-weighted mean is the target to the nearest weight.</param>
/// <param name="GroupSparsities">Each group's sparsity before rounding to whole weights, in the order of <paramref name="Groups"/>.</param>
public sealed record OwlAllocation(IReadOnlyList<KeyValuePair<string, double>> Sparsities, IReadOnlyList<OwlGroup> Groups,
    IReadOnlyList<double> GroupSparsities, double TargetSparsity, double AchievedSparsity, long Parameters, long Zeros);

/// <summary>
/// Outlier-weighed layerwise sparsity (Yin et al., 2023, "Outlier Weighed Layerwise Sparsity (OWL): A Missing Secret
/// Sauce for Pruning LLMs to High Sparsity"): layers whose Wanda scores |W_ij|·‖X_j‖ hold more outliers (scores above
/// M times the layer's mean) keep more of their weights. Each group's sparsity falls linearly with its outlier ratio
/// D from target + λ (fewest outliers) to target − λ (most), then all are shifted by one amount so that the
/// parameter-weighted mean is the target, staying inside [target − λ, target + λ] (and [0, 1)).
/// </summary>
public static class OwlAllocator
{
    /// <summary>The fraction of <paramref name="scores"/> (all arrays together) strictly above <paramref name="threshold"/> times their mean; 0 when there are none.</summary>
    public static double OutlierRatio(IEnumerable<float[]> scores, double threshold)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var arrays = scores.ToArray();
        long count = 0;
        double sum = 0;
        foreach (var a in arrays)
        {
            count += a.Length;
            foreach (var v in a) sum += v;
        }
        if (count == 0) return 0;
        // A non-finite score would make every comparison false and read as "no outliers": report it as NaN instead.
        if (!double.IsFinite(sum)) return double.NaN;
        var bar = threshold * (sum / count);
        long above = 0;
        foreach (var a in arrays)
            foreach (var v in a)
                if (v > bar) above++;
        return (double)above / count;
    }

    /// <summary>Per-weight sparsities for <paramref name="groups"/> whose parameter-weighted mean is <paramref name="targetSparsity"/> (to the nearest whole weight).</summary>
    /// <exception cref="PruningRequestException">No groups or parameters, a target outside [0, 1), or λ outside [0, 1).</exception>
    public static OwlAllocation Allocate(IReadOnlyList<OwlGroup> groups, double targetSparsity, double lambda)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0) throw new PruningRequestException("OWL: no weights to allocate sparsity over.");
        if (!(targetSparsity >= 0 && targetSparsity < 1))
            throw new PruningRequestException($"OWL: the overall sparsity must be at least 0 and below 1; got {targetSparsity}.");
        if (!(lambda >= 0 && lambda < 1))
            throw new PruningRequestException($"OWL: λ must be at least 0 and below 1; got {lambda}.");
        if (groups.Any(g => double.IsNaN(g.OutlierRatio)))
            throw new PruningRequestException("OWL: an outlier ratio is NaN (are the calibration activations finite?).");
        var parameters = groups.Sum(g => g.Parameters);
        if (parameters == 0) throw new PruningRequestException("OWL: the weights hold no parameters.");

        // Bounds: the band around the target, inside [0, 1) (a layer pruned to 100% computes nothing).
        var low = Math.Max(0, targetSparsity - lambda);
        var high = Math.Min(Math.BitDecrement(1.0), targetSparsity + lambda);
        var ratios = groups.Select(g => g.OutlierRatio).ToArray();
        var (min, max) = (ratios.Min(), ratios.Max());
        // Linear in 1 − D: the most outliers get target − λ, the fewest target + λ; all alike stay at the target.
        var raw = ratios.Select(d => max > min ? targetSparsity + lambda - 2 * lambda * (d - min) / (max - min) : targetSparsity).ToArray();
        var shift = Shift(raw, groups.Select(g => (double)g.Parameters).ToArray(), targetSparsity, low, high);
        var groupSparsities = raw.Select(s => Math.Clamp(s + shift, low, high)).ToArray();

        // Whole weights: every weight of a group at the group's sparsity, rounded so that the total is exact.
        var names = new List<string>();
        var sizes = new List<long>();
        var zeros = new List<double>();
        var lowest = new List<long>();
        var highest = new List<long>();
        for (var g = 0; g < groups.Count; g++)
            foreach (var (name, size) in groups[g].Weights)
            {
                names.Add(name);
                sizes.Add(size);
                zeros.Add(groupSparsities[g] * size);
                // Bounds with one weight of slack each way: a band narrower than a weight (λ = 0) still rounds to the target.
                lowest.Add((long)Math.Floor(low * size + 1e-9));
                // ...but never every weight of one: high < 1 would otherwise round up to the whole weight.
                highest.Add(Math.Min(Math.Max(0, size - 1), (long)Math.Ceiling(high * size - 1e-9)));
            }
        var wanted = Math.Clamp((long)Math.Round(targetSparsity * parameters), lowest.Sum(), highest.Sum());
        var counts = SparsityAllocator.Discretize([.. zeros], [.. lowest], [.. highest], wanted);
        var sparsities = names.Select((n, i) => new KeyValuePair<string, double>(n, sizes[i] == 0 ? 0 : (double)counts[i] / sizes[i])).ToArray();
        var total = counts.Sum();
        return new OwlAllocation(sparsities, groups, groupSparsities, targetSparsity, (double)total / parameters, parameters, total);
    }

    /// <summary>The c for which the parameter-weighted mean of clamp(raw + c, low, high) is the target (bisection: the mean only grows with c).</summary>
    private static double Shift(double[] raw, double[] weights, double target, double low, double high)
    {
        var total = weights.Sum();
        double Mean(double c) => raw.Select((s, i) => Math.Clamp(s + c, low, high) * weights[i]).Sum() / total;
        double from = low - raw.Max(), to = high - raw.Min();
        for (var i = 0; i < 200 && to - from > 1e-15; i++)
        {
            var middle = (from + to) / 2;
            if (Mean(middle) < target) from = middle; else to = middle;
        }
        return (from + to) / 2;
    }

    /// <summary>
    /// OWL for the targets <paramref name="settings"/> select in <paramref name="model"/>: Wanda scores from
    /// <paramref name="statistics"/> (one calibration run of the dense model), outlier ratios per group, and the
    /// allocation at <paramref name="settings"/>' sparsity. Transformer layers are found by <see cref="EncoderStructure"/>.
    /// </summary>
    public static OwlAllocation FromCalibration(Model model, PruneSettings settings, IReadOnlyDictionary<string, LayerInputStatistics> statistics, OwlOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.OutlierThreshold > 0)) throw new PruningRequestException($"OWL: M must be above 0; got {options.OutlierThreshold}.");
        if (settings.Pattern.Kind != PatternKind.Unstructured)
            throw new PruningRequestException($"OWL sets a sparsity per layer; the {settings.Pattern} pattern fixes its own. Use the unstructured pattern.");
        var target = settings.CheckedSparsity();
        var targets = CalibratedPruner.WandaTargets(model, settings);
        var criterion = CalibratedPruner.WithWandaCriterion(settings, statistics).Criterion!;
        var layerOf = new Dictionary<string, int>(StringComparer.Ordinal);
        if (options.Grouping == OwlGrouping.Layer && EncoderStructure.TryFind(model.Graph) is { } structure)
            foreach (var layer in structure.Layers)
                foreach (var w in new[] { layer.Attention.Query, layer.Attention.Key, layer.Attention.Value, layer.Attention.Output, layer.FeedForward.Up, layer.FeedForward.Down })
                    layerOf.TryAdd(w.WeightName, layer.Index);

        var members = new List<(string Group, PruningTarget Target)>();
        foreach (var t in targets)
            members.Add((layerOf.TryGetValue(t.WeightName, out var index) ? $"layer {index}" : t.WeightName, t));
        var groups = new List<OwlGroup>();
        foreach (var group in members.GroupBy(m => m.Group))
        {
            var scores = group.Select(m =>
            {
                var weight = WeightLayout.ToOutByIn(m.Target, model.Graph.Initializers[m.Target.WeightName].As<float>().Span);
                return criterion(m.Target, weight);
            });
            var ratio = OutlierRatio(scores, options.OutlierThreshold);
            groups.Add(new OwlGroup(group.Key, group.Select(m => new KeyValuePair<string, long>(m.Target.WeightName, m.Target.Shape.Aggregate(1L, (a, b) => a * b))).ToArray(), ratio));
        }
        return Allocate(groups, target, options.Lambda);
    }
}
