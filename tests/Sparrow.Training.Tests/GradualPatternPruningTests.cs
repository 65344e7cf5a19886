using Sparrow.Pruning;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Tests;

/// <summary>Gradual pruning to N:M and block patterns: at every pruning step the masks have the pattern and the scheduled sparsity, and only grow.</summary>
public class GradualPatternPruningTests
{
    private static readonly GptOptions Tiny = new(Vocabulary: 5, Context: 4, Width: 8, Heads: 2, Layers: 1, MlpRatio: 2);

    /// <summary>Trains a model (tiny GPT: MatMul weights [in, out]; MLP: Gemm transB weights [out, in]) while pruning, checking each pruning step.</summary>
    private static void TrainWhilePruning(string kind, GradualPatternPruning pruning, Action<long, PruningTarget, bool[], int, int> check)
    {
        var model = kind == "gpt" ? GptBuilder.Build(Tiny, seed: 1) : ModelBuilder.Mlp([16, 16, 8], seed: 1);
        var trainer = new Trainer(model, new AdamW(), new ConstantSchedule(0.01f), new TrainerOptions { BatchSize = 8, Seed = 2 });
        var weights = trainer.Graph.Parameters.Where(p => p.Value.Rank == 2 && p.Name is not ("wte" or "wpe" or "head.weight")).ToArray();
        Assert.NotEmpty(weights);
        var previous = weights.ToDictionary(p => p.Name, _ => 0);
        var data = TrainerTests.Blobs(64, 16, 8, seed: 3);
        var ids = Tensor<long>.FromArray(Enumerable.Range(0, 8).Select(i => (long)(i % Tiny.Vocabulary)).ToArray(), [2, 4]);
        var pruningSteps = 0;
        while (trainer.Step < 24)
        {
            var step = trainer.Step;
            if (pruning.Apply(step, trainer.Graph, weights))
            {
                pruningSteps++;
                foreach (var p in weights)
                {
                    var target = GradualPatternPruning.TargetOf(model.Graph, p.Name);
                    var (rows, columns) = WeightLayout.OutByInShape(target);
                    var stored = new float[p.Length];
                    for (var i = 0; i < stored.Length; i++) stored[i] = p.Mask?.IsKept(i) ?? true ? 1f : 0f; // no mask yet: nothing pruned
                    var keep = WeightLayout.ToOutByIn(target, stored).Select(v => v != 0).ToArray();
                    check(step, target, keep, rows, columns);
                    var pruned = p.Mask is null ? 0 : p.Mask.Length - p.Mask.KeptCount;
                    Assert.True(pruned >= previous[p.Name], $"step {step}: {p.Name}'s mask shrank");
                    previous[p.Name] = pruned;
                    for (var i = 0; i < p.Length; i++)
                        if (!(p.Mask?.IsKept(i) ?? true)) Assert.Equal(0f, p.Value.Span[i]);
                }
            }
            if (kind == "gpt")
                trainer.TrainStep(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = ids },
                    (y, g) => Losses.CrossEntropy(y.Reshape([8, Tiny.Vocabulary]), ids.ToArray().Select(v => (int)((v + 1) % Tiny.Vocabulary)).ToArray(), g));
            else trainer.Fit(data, trainer.Step + 1);
        }
        Assert.Equal(pruning.Schedule.PruningSteps + 1, pruningSteps);
        // Masks held through the training steps after the last pruning step.
        foreach (var p in weights)
            for (var i = 0; i < p.Length; i++)
                if (!p.Mask!.IsKept(i)) Assert.Equal(0f, p.Value.Span[i]);
    }

    [Theory]
    [InlineData("gpt")]
    [InlineData("mlp")]
    public void NM_masks_tighten_to_2_of_4_along_the_inputs(string kind)
    {
        var pruning = GradualPatternPruning.NM(2, 4, initialSparsity: 0.1, startStep: 2, pruningSteps: 4, interval: 4);
        var seen = new HashSet<int>();
        TrainWhilePruning(kind, pruning, (step, target, keep, rows, columns) =>
        {
            var kept = pruning.KeptPerGroup(step);
            seen.Add(kept);
            for (var group = 0; group < keep.Length; group += 4)
                Assert.Equal(kept, keep.AsSpan(group, 4).Count(true));
            Assert.Equal(pruning.TargetSparsity(step), 1 - (double)keep.Count(k => k) / keep.Length, 9);
            Assert.True(pruning.TargetSparsity(step) <= pruning.Schedule.Sparsity(step) + 1e-9);
        });
        Assert.Contains(4, seen);   // s_0 = 0.1 rounds down to nothing pruned
        Assert.Contains(3, seen);
        Assert.Contains(2, seen);   // 2:4 at the end
    }

    [Theory]
    [InlineData("gpt")]
    [InlineData("mlp")]
    public void Block_masks_prune_whole_blocks_at_the_scheduled_sparsity(string kind)
    {
        var pruning = new GradualPatternPruning(PruningPattern.Block(2, 4), new GradualPruning(0.2, 0.75, startStep: 1, pruningSteps: 3, interval: 5));
        TrainWhilePruning(kind, pruning, (step, target, keep, rows, columns) =>
        {
            var blocks = rows / 2 * (columns / 4);
            var prunedBlocks = 0;
            for (var br = 0; br < rows / 2; br++)
                for (var bc = 0; bc < columns / 4; bc++)
                {
                    var kept = 0;
                    for (var r = 0; r < 2; r++)
                        for (var c = 0; c < 4; c++)
                            if (keep[(br * 2 + r) * columns + bc * 4 + c]) kept++;
                    Assert.True(kept is 0 or 8, $"step {step}: block ({br}, {bc}) of {target.WeightName} is partly pruned");
                    if (kept == 0) prunedBlocks++;
                }
            Assert.Equal(MaskSelector.PrunedCount(blocks, pruning.Schedule.Sparsity(step)), prunedBlocks);
        });
    }

    [Fact]
    public void Unstructured_masks_follow_the_schedule()
    {
        var pruning = new GradualPatternPruning(PruningPattern.Unstructured, new GradualPruning(0.1, 0.9, startStep: 0, pruningSteps: 4, interval: 3));
        TrainWhilePruning("mlp", pruning, (step, target, keep, rows, columns) =>
            Assert.Equal(MaskSelector.PrunedCount(keep.Length, pruning.Schedule.Sparsity(step)), keep.Count(k => !k)));
    }

    [Fact]
    public void NM_schedule_must_end_at_the_patterns_sparsity()
    {
        Assert.Throws<ArgumentException>(() => new GradualPatternPruning(PruningPattern.NM(2, 4), new GradualPruning(0, 0.9, 0, 2, 1)));
        var model = GptBuilder.Build(Tiny, seed: 1);
        Assert.Throws<ArgumentException>(() => GradualPatternPruning.TargetOf(model.Graph, "wte"));
    }
}
