using System.Text.RegularExpressions;

namespace Sparrow.Pruning;

/// <summary>The built-in criteria.</summary>
public enum PruningMethod
{
    /// <summary>|w|, compared within each layer.</summary>
    Magnitude,

    /// <summary>|w|, one threshold across all targets (magnitudes compared as they are).</summary>
    GlobalMagnitude,

    /// <summary>Seeded random scores, a baseline.</summary>
    Random,
}

/// <summary>
/// Scores one target's weight; higher = keep. <paramref name="weightOutByIn"/> is the weight seen as [out, in]
/// row-major (<see cref="WeightLayout"/>), and the returned scores must have the same layout and length.
/// </summary>
public delegate float[] PruningCriterion(PruningTarget target, float[] weightOutByIn);

/// <summary>Which of the candidate weights (<see cref="PruningTargets.Find"/>) to prune.</summary>
public sealed record TargetSelection
{
    /// <summary>Op types to prune (of MatMul, Gemm, Conv); empty = all of them.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = [];

    /// <summary>
    /// Also prune the embedding tables (<see cref="PruningTargets.FindEmbeddings"/>, op type "Gather"), which are left
    /// dense by default. Include/Exclude apply to them as to the other targets; OpTypes does not (this is their switch).
    /// Magnitude and random criteria only: the calibrated ones read the inputs of matrix products.
    /// </summary>
    public bool Embeddings { get; init; }

    /// <summary>Weight-name regexes; when any is given, only weights matching one of them are pruned.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>Weight-name regexes; weights matching any of them stay dense.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    internal IReadOnlyList<PruningTarget> Apply(IReadOnlyList<PruningTarget> candidates)
    {
        var include = Include.Select(p => Compile(p, "include")).ToArray();
        var exclude = Exclude.Select(p => Compile(p, "exclude")).ToArray();
        return candidates.Where(t =>
                (OpTypes.Count == 0 || t.Node.OpType == "Gather" || OpTypes.Contains(t.Node.OpType, StringComparer.OrdinalIgnoreCase))
                && (include.Length == 0 || include.Any(r => r.IsMatch(t.WeightName)))
                && !exclude.Any(r => r.IsMatch(t.WeightName)))
            .ToArray();
    }

    private static Regex Compile(string pattern, string what)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new PruningRequestException($"The {what} pattern '{pattern}' is not a valid regular expression: {e.Message}");
        }
    }
}

/// <summary>What <see cref="Pruner.Prune"/> does: criterion × pattern × sparsity over a selection of targets.</summary>
public sealed record PruneSettings
{
    /// <summary>The criterion that scores weights (ignored when <see cref="Criterion"/> is set).</summary>
    public PruningMethod Method { get; init; } = PruningMethod.Magnitude;

    /// <summary>The shape masks must have; unstructured by default.</summary>
    public PruningPattern Pattern { get; init; } = PruningPattern.Unstructured;

    /// <summary>Fraction of each target to prune, in [0, 1). Null: the N:M pattern's own (1 − N/M); required otherwise.</summary>
    public double? Sparsity { get; init; }

    /// <summary>Seed of <see cref="PruningMethod.Random"/>.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Per-weight sparsities (weight name → sparsity) that replace <see cref="Sparsity"/> for those weights. Under a
    /// global threshold, overridden weights are pruned per layer at their own sparsity, outside the global pool.
    /// </summary>
    public IReadOnlyDictionary<string, double> LayerSparsity { get; init; } = new Dictionary<string, double>();

    /// <summary>Which weights are pruned; by default every MatMul, Gemm and Conv weight except embeddings and the final classifier.</summary>
    public TargetSelection Targets { get; init; } = new();

    /// <summary>
    /// Extension point for criteria that need more than the weight, e.g. calibration-based ones: Wanda's
    /// |W| · ‖X_k‖ from Calibration/LayerInputStatistics, built by the caller as a closure over each target's
    /// statistics. When set, it replaces <see cref="Method"/>'s scores; <see cref="Scope"/> then says how they
    /// are compared (Wanda: <see cref="ComparisonScope.OutputRow"/>). Nothing else in the pruner changes.
    /// </summary>
    public PruningCriterion? Criterion { get; init; }

    /// <summary>How scores are compared; null = the method's own (global for GlobalMagnitude, per layer otherwise).</summary>
    public ComparisonScope? Scope { get; init; }

    /// <summary>How a block's score is made from its weights' scores (block patterns only).</summary>
    public BlockScoreReduction BlockScore { get; init; } = BlockScoreReduction.Sum;

    /// <summary>The sparsity to prune each target to (given, or the N:M pattern's own), checked against the pattern.</summary>
    internal double CheckedSparsity()
    {
        var sparsity = Sparsity ?? Pattern.ImpliedSparsity
            ?? throw new PruningRequestException($"A sparsity is needed for the {Pattern} pattern (only N:M patterns imply one).");
        MaskSelector.CheckSparsity(sparsity, Pattern);
        return sparsity;
    }

    internal ComparisonScope EffectiveScope => Scope ?? (Method == PruningMethod.GlobalMagnitude && Criterion is null ? ComparisonScope.Global : ComparisonScope.Layer);
}
