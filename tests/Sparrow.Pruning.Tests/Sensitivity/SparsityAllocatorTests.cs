using Sparrow.Pruning.Sensitivity;

namespace Sparrow.Pruning.Tests.Sensitivity;

public sealed class SparsityAllocatorTests
{
    private static readonly double[] Levels = [0.3, 0.5, 0.7, 0.8, 0.9];

    /// <summary>A curve whose loss grows as scale · s³ (steeper for a larger scale).</summary>
    private static SensitivityCurve Curve(string name, long parameters, double scale) =>
        new(name, name, "MatMul", [(int)parameters, 1], parameters, Levels, Levels.Select(s => scale * s * s * s).ToArray());

    private static double WeightedMean(SparsityAllocation a, IReadOnlyList<SensitivityCurve> curves)
    {
        var zeros = 0L;
        for (var i = 0; i < curves.Count; i++) zeros += MaskSelector.PrunedCount(curves[i].Parameters, a.Sparsities[i].Value);
        return (double)zeros / curves.Sum(c => c.Parameters);
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(0.5)]
    [InlineData(0.123)]
    [InlineData(0.0)]
    public void Parameter_weighted_mean_hits_the_target(double target)
    {
        var random = new Random(7);
        var curves = Enumerable.Range(0, 12).Select(i => Curve("w" + i, 1000 + random.Next(5000), 0.01 + random.NextDouble())).ToArray();
        var allocation = SparsityAllocator.Allocate(curves, target);
        var parameters = curves.Sum(c => c.Parameters);
        // Whole weights: the pruner's count for each layer's sparsity adds up to the nearest count to the target.
        Assert.Equal(Math.Round(target * parameters), WeightedMean(allocation, curves) * parameters, 6);
        Assert.True(Math.Abs(allocation.AchievedSparsity - target) <= 0.5 / parameters + 1e-12);
        Assert.Equal(allocation.AchievedSparsity, WeightedMean(allocation, curves), 12);
    }

    [Fact]
    public void Insensitive_layers_are_pruned_more_and_the_predicted_loss_beats_uniform()
    {
        var curves = new[] { Curve("sensitive", 1000, 5), Curve("robust", 1000, 0.05), Curve("middle", 2000, 1) };
        var allocation = SparsityAllocator.Allocate(curves, 0.6);
        var s = allocation.Sparsities.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.True(s["robust"] > s["middle"], $"robust {s["robust"]} vs middle {s["middle"]}");
        Assert.True(s["middle"] > s["sensitive"], $"middle {s["middle"]} vs sensitive {s["sensitive"]}");
        Assert.True(allocation.PredictedLoss < allocation.UniformPredictedLoss);
        Assert.Equal(allocation.PredictedLoss, curves.Select((c, i) => c.LossAt(allocation.Sparsities[i].Value)).Sum(), 9);
    }

    [Fact]
    public void Clamps_are_respected()
    {
        // A free layer would take everything; the maximum stops it there and the rest goes to the others.
        var curves = new[] { Curve("free", 1000, 0), Curve("a", 1000, 1), Curve("b", 1000, 2) };
        var allocation = SparsityAllocator.Allocate(curves, 0.5, minSparsity: 0.1, maxSparsity: 0.8);
        Assert.All(allocation.Sparsities, kv => Assert.InRange(kv.Value, 0.1, 0.8));
        Assert.Equal(0.8, allocation.Sparsities[0].Value, 9);
        Assert.Equal(0.5, allocation.AchievedSparsity, 9);
    }

    [Fact]
    public void Default_maximum_is_095()
    {
        var curves = new[] { Curve("free", 1000, 0), Curve("a", 1000, 1) };
        var allocation = SparsityAllocator.Allocate(curves, 0.9);
        Assert.Equal(0.95, allocation.Sparsities[0].Value, 9);
        Assert.Equal(0.85, allocation.Sparsities[1].Value, 9);
    }

    [Theory]
    [InlineData(0.96, "0.95")]
    [InlineData(1.0, "below 1")]
    [InlineData(-0.1, "below 1")]
    public void Impossible_targets_fail_clearly(double target, string expected)
    {
        var curves = new[] { Curve("a", 100, 1), Curve("b", 300, 1) };
        var e = Assert.Throws<PruningRequestException>(() => SparsityAllocator.Allocate(curves, target));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_target_below_the_minimums_fails()
    {
        var e = Assert.Throws<PruningRequestException>(() => SparsityAllocator.Allocate([Curve("a", 100, 1)], 0.2, minSparsity: 0.3));
        Assert.Contains("cannot be reached", e.Message);
    }

    [Fact]
    public void Non_convex_and_noisy_curves_still_sum_exactly()
    {
        // A step (nothing, then a cliff) and a dip at higher sparsity (noise) in the measured losses.
        var step = new SensitivityCurve("step", "step", "MatMul", [500, 2], 1000, Levels, [0, 0, 0.5, 0.5, 0.6]);
        var dip = new SensitivityCurve("dip", "dip", "MatMul", [500, 2], 1000, Levels, [0.1, 0.05, 0.2, 0.3, 0.4]);
        var allocation = SparsityAllocator.Allocate([step, dip], 0.6);
        Assert.Equal(0.6, allocation.AchievedSparsity, 9);
        Assert.Equal(0.1, dip.LossAt(0.5), 9); // made non-decreasing
    }

    [Fact]
    public void Recipe_round_trips_through_the_recipe_reader()
    {
        var curves = new[] { Curve("927", 1000, 1), Curve("onnx::MatMul_1", 3000, 0.1) };
        var allocation = SparsityAllocator.Allocate(curves, 0.7);
        var recipe = RecipeWriter.FromAllocation(allocation, "wanda", new TargetSelection { OpTypes = ["MatMul"], Exclude = ["^x$"] });
        foreach (var read in new[] { PruningRecipe.Parse(RecipeWriter.ToJson(recipe)), PruningRecipe.ParseYaml(RecipeWriter.ToYaml(recipe, "made by a test\nsecond line")) })
        {
            Assert.Equal("wanda", read.Method);
            Assert.Equal(0.7, read.Sparsity);
            Assert.Equal(["MatMul"], read.OpTypes);
            Assert.Equal(["^x$"], read.Exclude);
            Assert.Equal(allocation.Sparsities, read.LayerSparsity);
        }
    }
}
