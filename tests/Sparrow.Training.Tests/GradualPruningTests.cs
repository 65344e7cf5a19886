using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Tests;

public class GradualPruningTests
{
    [Fact]
    public void Cubic_schedule_follows_zhu_and_gupta()
    {
        var schedule = new GradualPruning(initialSparsity: 0.1, finalSparsity: 0.9, startStep: 10, pruningSteps: 4, interval: 5);
        Assert.Equal(0, schedule.Sparsity(9));
        Assert.Equal(0.1, schedule.Sparsity(10), 9);
        Assert.Equal(0.9 - 0.8 * Math.Pow(0.75, 3), schedule.Sparsity(15), 9);
        Assert.Equal(0.9 - 0.8 * Math.Pow(0.5, 3), schedule.Sparsity(20), 9);
        Assert.Equal(0.9, schedule.Sparsity(30), 9);
        Assert.Equal(0.9, schedule.Sparsity(1000), 9);
        Assert.True(schedule.IsPruningStep(25));
        Assert.False(schedule.IsPruningStep(26));
        Assert.False(schedule.IsPruningStep(35));
    }

    [Fact]
    public void Pruning_during_training_reaches_the_final_sparsity_with_growing_masks()
    {
        var model = ModelBuilder.Mlp([12, 16, 3], seed: 16);
        var trainer = new Trainer(model, new SgdMomentum(), new ConstantSchedule(0.05f), new TrainerOptions { BatchSize = 8, Seed = 17 });
        var weights = trainer.Graph.Parameters.Where(p => p.Value.Rank == 2).ToArray();
        var schedule = new GradualPruning(0.2, 0.8, startStep: 2, pruningSteps: 5, interval: 3);
        var data = TrainerTests.Blobs(64, 12, 3, seed: 18);
        var pruned = new Dictionary<string, int>();
        while (trainer.Step < 20)
        {
            schedule.Apply(trainer.Step, weights);
            foreach (var p in weights.Where(p => p.Mask is not null))
            {
                var now = p.Mask!.Length - p.Mask.KeptCount;
                Assert.True(now >= pruned.GetValueOrDefault(p.Name), $"{p.Name}'s mask shrank");
                pruned[p.Name] = now;
            }
            trainer.Fit(data, trainer.Step + 1);
        }
        foreach (var p in weights)
        {
            Assert.Equal((int)Math.Round(0.8 * p.Length), p.Mask!.Length - p.Mask.KeptCount);
            Assert.Equal(p.Mask.Length - p.Mask.KeptCount, p.Value.ToArray().Count(v => v == 0f));
        }
    }
}
