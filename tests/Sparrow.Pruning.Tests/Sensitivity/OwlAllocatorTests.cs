using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Sensitivity;

namespace Sparrow.Pruning.Tests.Sensitivity;

public sealed class OwlAllocatorTests
{
    private static readonly Lazy<Model> MiniLm = new(() => OnnxImporter.Load(DefaultModel.ReadOnnx()));

    private static OwlGroup Group(string name, double ratio, params long[] sizes) =>
        new(name, sizes.Select((s, i) => new KeyValuePair<string, long>($"{name}.{i}", s)).ToArray(), ratio);

    private static OwlGroup[] RandomGroups(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 8).Select(i => Group("g" + i, random.NextDouble() * 0.03, 1000 + random.Next(4000), 500 + random.Next(3000))).ToArray();
    }

    private static long PrunedZeros(OwlAllocation a, IEnumerable<OwlGroup> groups)
    {
        var sizes = groups.SelectMany(g => g.Weights).ToDictionary(w => w.Key, w => w.Value);
        return a.Sparsities.Sum(kv => MaskSelector.PrunedCount(sizes[kv.Key], kv.Value));
    }

    [Fact]
    public void OutlierRatio_CountsScoresAboveMTimesTheMean()
    {
        // Mean of all nine scores is (8·1 + 22) / 9 = 3.33; above 5 × that (16.7) only 22 is.
        float[][] scores = [[1, 1, 1, 1, 22], [1, 1, 1, 1]];
        Assert.Equal(1.0 / 9, OwlAllocator.OutlierRatio(scores, 5), 12);
        Assert.Equal(0, OwlAllocator.OutlierRatio(scores, 7));
        Assert.Equal(0, OwlAllocator.OutlierRatio([], 5));
    }

    [Theory]
    [InlineData(0.7, 0.08, 1)]
    [InlineData(0.7, 0.1, 2)]
    [InlineData(0.5, 0.05, 3)]
    [InlineData(0.05, 0.1, 4)]
    [InlineData(0.95, 0.1, 5)]
    public void The_parameter_weighted_sparsity_is_exactly_the_target_and_every_group_stays_within_lambda(double target, double lambda, int seed)
    {
        var groups = RandomGroups(seed);
        var plan = OwlAllocator.Allocate(groups, target, lambda);
        var parameters = groups.Sum(g => g.Parameters);
        // Whole weights: what the pruner will zero adds up to the count nearest the target.
        Assert.Equal((long)Math.Round(target * parameters), PrunedZeros(plan, groups));
        Assert.Equal((long)Math.Round(target * parameters), plan.Zeros);
        Assert.Equal(groups.Sum(g => g.Weights.Count), plan.Sparsities.Count);
        var low = Math.Max(0, target - lambda);
        var high = Math.Min(1, target + lambda);
        // Each weight within the band, give or take the one weight that rounding to the exact total may move.
        var sizes = groups.SelectMany(g => g.Weights).ToDictionary(w => w.Key, w => w.Value);
        Assert.All(plan.Sparsities, kv => Assert.InRange(kv.Value, low - 1.0 / sizes[kv.Key] - 1e-12, high + 1.0 / sizes[kv.Key] + 1e-12));
        Assert.All(plan.GroupSparsities, s => Assert.InRange(s, low, high));
        var weightedMean = plan.GroupSparsities.Select((s, g) => s * groups[g].Parameters).Sum() / parameters;
        Assert.Equal(target, weightedMean, 9);
    }

    [Fact]
    public void A_band_reaching_past_one_never_prunes_a_whole_weight()
    {
        // target + λ > 1: the group with no outliers is pushed to the top of the band, which must stay below 100%.
        var groups = new[] { Group("none", 0, 1000), Group("many", 1, 1000) };
        var plan = OwlAllocator.Allocate(groups, 0.95, 0.08);
        Assert.All(plan.Sparsities, kv => Assert.True(kv.Value < 1, $"{kv.Key} is pruned to {kv.Value}"));
        Assert.Equal((long)Math.Round(0.95 * 2000), plan.Zeros);
    }

    [Fact]
    public void A_non_finite_score_gives_a_nan_ratio_that_allocation_refuses()
    {
        Assert.True(double.IsNaN(OwlAllocator.OutlierRatio([[1f, float.NaN, 2f]], 5)));
        Assert.True(double.IsNaN(OwlAllocator.OutlierRatio([[1f, float.PositiveInfinity]], 5)));
        var error = Assert.Throws<PruningRequestException>(() => OwlAllocator.Allocate([Group("a", double.NaN, 100), Group("b", 0.1, 100)], 0.7, 0.08));
        Assert.Contains("NaN", error.Message);
    }

    [Fact]
    public void Groups_with_more_outliers_are_pruned_less_and_spread_over_two_lambda()
    {
        // Equal-sized extremes around a middle whose ratio is halfway: the mean is the target without a shift.
        var groups = new[] { Group("few", 0.001, 1000), Group("many", 0.02, 1000), Group("middle", 0.0105, 3000, 1000) };
        var plan = OwlAllocator.Allocate(groups, 0.7, 0.08);
        var s = plan.GroupSparsities;
        Assert.Equal(0.78, s[0], 9);
        Assert.Equal(0.62, s[1], 9);
        Assert.Equal(0.70, s[2], 9);
        // Every weight of a group shares its sparsity (to a whole weight).
        Assert.All(plan.Sparsities, kv => Assert.Equal(s[Array.FindIndex(groups, g => kv.Key.StartsWith(g.Name + ".", StringComparison.Ordinal))], kv.Value, 3));

        // A large group with few outliers pulls the mean up: the shift lowers everyone, and the clamp keeps the band.
        var skewed = new[] { Group("few", 0.001, 8000), Group("many", 0.02, 1000), Group("middle", 0.0105, 1000) };
        var shifted = OwlAllocator.Allocate(skewed, 0.7, 0.08).GroupSparsities;
        Assert.True(shifted[0] > shifted[2] && shifted[2] > shifted[1], $"sparsities {string.Join(", ", shifted)}");
        Assert.Equal(0.62, shifted[1], 9);
        Assert.True(shifted[0] < 0.78);
    }

    [Fact]
    public void Equal_outlier_ratios_or_zero_lambda_give_the_uniform_plan()
    {
        var same = new[] { Group("a", 0.01, 1000), Group("b", 0.01, 3000) };
        Assert.All(OwlAllocator.Allocate(same, 0.7, 0.08).Sparsities, kv => Assert.Equal(0.7, kv.Value, 12));
        var groups = RandomGroups(9);
        var sizes = groups.SelectMany(g => g.Weights).ToDictionary(w => w.Key, w => w.Value);
        // λ = 0: every weight at the target, give or take the one weight that rounding to the exact total moves.
        Assert.All(OwlAllocator.Allocate(groups, 0.6, 0).Sparsities, kv => Assert.InRange(kv.Value, 0.6 - 1.0 / sizes[kv.Key] - 1e-12, 0.6 + 1.0 / sizes[kv.Key] + 1e-12));
    }

    [Fact]
    public void The_plan_is_deterministic()
    {
        var first = OwlAllocator.Allocate(RandomGroups(11), 0.7, 0.08);
        var second = OwlAllocator.Allocate(RandomGroups(11), 0.7, 0.08);
        Assert.Equal(first.Sparsities, second.Sparsities);
        Assert.Equal(first.GroupSparsities, second.GroupSparsities);
    }

    [Theory]
    [InlineData(1.0, 0.08)]
    [InlineData(-0.1, 0.08)]
    [InlineData(0.7, 1.0)]
    [InlineData(0.7, -0.01)]
    public void Impossible_requests_fail_clearly(double target, double lambda)
    {
        var e = Assert.Throws<PruningRequestException>(() => OwlAllocator.Allocate(RandomGroups(1), target, lambda));
        Assert.StartsWith("OWL:", e.Message);
    }

    [Fact]
    public void On_MiniLm_every_transformer_layer_shares_one_sparsity_and_wanda_reaches_the_target()
    {
        var model = MiniLm.Value;
        var settings = new PruneSettings { Sparsity = 0.7 };
        var targets = CalibratedPruner.WandaTargets(model, settings);
        var statistics = Calibrator.Run(model, targets, CalibrationSentences.Batches(CalibrationSentences.Sample.Take(16)));
        var plan = OwlAllocator.FromCalibration(model, settings, statistics, new OwlOptions());
        Assert.Equal(6, plan.Groups.Count);
        Assert.All(plan.Groups, g => Assert.Equal(6, g.Weights.Count));
        Assert.Equal(36, plan.Sparsities.Count);
        Assert.Equal(0.7, plan.AchievedSparsity, 6);
        // More outliers, lower sparsity (strictly, for layers whose ratios differ).
        for (var a = 0; a < 6; a++)
            for (var b = 0; b < 6; b++)
                if (plan.Groups[a].OutlierRatio > plan.Groups[b].OutlierRatio)
                    Assert.True(plan.GroupSparsities[a] < plan.GroupSparsities[b]);
        Assert.True(plan.GroupSparsities.Max() - plan.GroupSparsities.Min() > 0.05, "the layers' outlier ratios differ, so should their sparsities");

        var again = OwlAllocator.FromCalibration(model, settings, statistics, new OwlOptions());
        Assert.Equal(plan.Sparsities, again.Sparsities);

        var perWeight = OwlAllocator.FromCalibration(model, settings, statistics, new OwlOptions { Grouping = OwlGrouping.Weight });
        Assert.Equal(36, perWeight.Groups.Count);

        var pruned = Pruner.Prune(model, CalibratedPruner.WithWandaCriterion(settings with { LayerSparsity = plan.Sparsities.ToDictionary(kv => kv.Key, kv => kv.Value) }, statistics));
        var zeros = pruned.Layers.Sum(l => l.Zeros);
        var parameters = pruned.Layers.Sum(l => l.Parameters);
        // Wanda prunes ⌊s · columns⌋ per output row: at most one weight per row below the plan.
        Assert.InRange((double)zeros / parameters, 0.7 - pruned.Layers.Sum(l => (double)l.Shape[1]) / parameters, 0.7 + 1e-9);
    }

    [Fact]
    public void Patterns_other_than_unstructured_are_refused()
    {
        var model = MiniLm.Value;
        var settings = new PruneSettings { Pattern = PruningPattern.NM(2, 4) };
        var e = Assert.Throws<PruningRequestException>(() => OwlAllocator.FromCalibration(model, settings, new Dictionary<string, LayerInputStatistics>(), new OwlOptions()));
        Assert.Contains("unstructured", e.Message);
    }
}
