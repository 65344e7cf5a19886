using System.Text.RegularExpressions;
using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Sensitivity;

/// <summary>What to measure: the pruning (criterion, pattern, targets) and the sparsities to try on each target.</summary>
public sealed record SensitivityOptions
{
    /// <summary>The sparsities tried when none are given: 0.3, 0.5, 0.7, 0.8 and 0.9.</summary>
    public static readonly IReadOnlyList<double> DefaultSparsities = [0.3, 0.5, 0.7, 0.8, 0.9];

    /// <summary>Each target is pruned alone to each of these.</summary>
    public IReadOnlyList<double> Sparsities { get; init; } = DefaultSparsities;

    /// <summary>
    /// How to prune (method or criterion, pattern, which targets); its <see cref="PruneSettings.Sparsity"/> and
    /// <see cref="PruneSettings.LayerSparsity"/> are ignored: the analysis sets each target's own.
    /// </summary>
    public PruneSettings Settings { get; init; } = new();

    /// <summary>
    /// When set, every other target is pruned to this sparsity while one target varies, instead of staying dense:
    /// the curves then describe each weight at the operating point, where weights pruned together interact.
    /// Losses are reported relative to the lowest loss of each curve, so they start at 0 like the alone curves.
    /// </summary>
    public double? Around { get; init; }

    /// <summary>Called before each measurement with (done, total).</summary>
    public Action<int, int>? Progress { get; init; }
}

/// <summary>
/// Per-layer sensitivity: each target weight pruned alone to each sparsity, the rest of the model dense, and the
/// quality loss measured through the runtime. Each point copies only the graph (weights are shared) and replaces
/// the one pruned initializer, so a point costs one pruning of one weight and one run of the quality loss.
/// </summary>
public static class SensitivityAnalyzer
{
    /// <summary>Measures every target's curve: for each target and each sparsity of <paramref name="options"/>, the <paramref name="loss"/> of the model with that target pruned (the others dense, or at <see cref="SensitivityOptions.Around"/>).</summary>
    /// <exception cref="PruningRequestException">The settings select no target or do not fit a weight.</exception>
    public static SensitivityResult Analyze(Model model, QualityLoss loss, SensitivityOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Sparsities.Count == 0) throw new PruningRequestException("Give at least one sparsity to measure.");
        foreach (var s in options.Sparsities) MaskSelector.CheckSparsity(s, options.Settings.Pattern);
        var baseSettings = options.Settings with { LayerSparsity = new Dictionary<string, double>() };
        var targets = Pruner.SelectTargets(model.Graph, baseSettings);
        if (targets.Count == 0) throw new PruningRequestException("No weight to analyse: the target selection matches none of the model's MatMul/Gemm/Conv weights.");

        // Encoder weights are labelled by layer and role where the structure is recognised; else by node name.
        var roles = Structured.EncoderStructure.TryFind(model.Graph)?.WeightRoles() ?? new Dictionary<string, string>();
        // Around an operating point: the rest of the model pruned uniformly, each target swapped in at each level.
        Model? operatingPoint = null;
        if (options.Around is { } around)
        {
            MaskSelector.CheckSparsity(around, options.Settings.Pattern);
            operatingPoint = Pruner.Prune(model, baseSettings with { Sparsity = around }).Pruned;
        }
        var curves = new List<SensitivityCurve>();
        var total = targets.Count * options.Sparsities.Count;
        var done = 0;
        foreach (var target in targets)
        {
            var alone = baseSettings with { Targets = new TargetSelection { Include = ["^" + Regex.Escape(target.WeightName) + "$"] } };
            var losses = new List<double>();
            foreach (var sparsity in options.Sparsities)
            {
                options.Progress?.Invoke(done++, total);
                var (pruned, _) = Pruner.Prune(model, alone with { Sparsity = sparsity });
                if (operatingPoint is not null)
                {
                    var point = operatingPoint.Clone(); // structural copy; the tensors are shared
                    point.Graph.Initializers[target.WeightName] = pruned.Graph.Initializers[target.WeightName];
                    pruned = point;
                }
                losses.Add(loss(pruned));
            }
            if (operatingPoint is not null)
            {
                var lowest = losses.Min();
                for (var k = 0; k < losses.Count; k++) losses[k] -= lowest;
            }
            curves.Add(new SensitivityCurve(target.WeightName, roles.GetValueOrDefault(target.WeightName) ?? Label(target), target.Node.OpType, target.Shape, target.Shape.Aggregate(1L, (a, b) => a * b),
                options.Sparsities.ToArray(), losses));
        }
        options.Progress?.Invoke(total, total);
        return new SensitivityResult(options.Sparsities.ToArray(), curves);
    }

    /// <summary>
    /// <paramref name="settings"/> with Wanda's criterion, calibrated once on the dense model over
    /// <paramref name="batches"/>: every point of the analysis reuses these statistics.
    /// </summary>
    public static PruneSettings WithWanda(Model model, PruneSettings settings, IEnumerable<IReadOnlyDictionary<string, Tensor>> batches)
    {
        var targets = CalibratedPruner.WandaTargets(model, settings);
        return CalibratedPruner.WithWandaCriterion(settings, Calibrator.Run(model, targets, batches));
    }

    /// <summary>The node's name without the exporter's boilerplate ("/encoder/layer.0/attention/self/query/MatMul" → "layer.0/attention/self/query").</summary>
    internal static string Label(PruningTarget target)
    {
        var name = target.Node.Name;
        if (string.IsNullOrEmpty(name)) return target.WeightName;
        name = name.Trim('/');
        var slash = name.LastIndexOf('/');
        if (slash > 0 && name[(slash + 1)..].StartsWith(target.Node.OpType, StringComparison.Ordinal)) name = name[..slash];
        if (name.StartsWith("encoder/", StringComparison.Ordinal)) name = name["encoder/".Length..];
        return name.Length > 0 ? name : target.WeightName;
    }
}
