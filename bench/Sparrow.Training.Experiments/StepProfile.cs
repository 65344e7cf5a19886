using Sparrow.Benchmarks;
using Sparrow.Tensors;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Experiments;

/// <summary>Where a LeNet-300-100 training step's time goes (forward, loss, backward, optimizer), thread CPU time, medians.</summary>
internal static class StepProfile
{
    public static int Run(string[] args)
    {
        var batch = args.Length > 0 ? int.Parse(args[0]) : 128;
        var random = new Xoshiro256(1);
        var data = new ArrayDataset(Enumerable.Range(0, 1024 * 784).Select(_ => (float)random.NextDouble()).ToArray(), [784],
            Enumerable.Range(0, 1024).Select(_ => random.Next(10)).ToArray());
        foreach (var (sparsity, magnitude, sparseForward) in new[] { (0.0, false, false), (0.9, true, false), (0.9, true, true) })
        {
            var model = ModelBuilder.Mlp([784, 300, 100, 10], 1);
            if (magnitude) model = Sparrow.Pruning.MagnitudePruner.Prune(model, sparsity).Pruned;
            else if (sparsity > 0)
                foreach (var (_, t) in model.Graph.Initializers)
                    if (t is Tensor<float> { Rank: 2 } w)
                    {
                        var s = w.Span;
                        for (var i = 0; i < s.Length; i++)
                            if (random.NextDouble() < sparsity) s[i] = 0;
                    }
            var trainer = new Trainer(model, new SgdMomentum(), new ConstantSchedule(1e-4f), new TrainerOptions { BatchSize = batch });
            if (sparsity > 0) trainer.MaskZeros();
            trainer.Graph.SparseForward = sparseForward;
            var sampler = new BatchSampler(data.Count, batch, 1);
            var parts = new List<double>[5];
            for (var p = 0; p < parts.Length; p++) parts[p] = new();
            for (var step = 0; step < 80; step++)
            {
                var t0 = ThreadCpuClock.Seconds();
                var (x, labels) = data.Batch(sampler.Next());
                var t1 = ThreadCpuClock.Seconds();
                trainer.Graph.ZeroGradients();
                var pass = trainer.Graph.Forward(new Dictionary<string, Tensor> { ["input"] = x });
                var t2 = ThreadCpuClock.Seconds();
                var logits = pass.FloatValue("logits");
                var gradient = new float[logits.Length];
                Losses.CrossEntropy(logits, labels, gradient);
                pass.Backward("logits", Tensor<float>.FromArray(gradient, logits.CopyShape()));
                pass.Dispose();
                var t3 = ThreadCpuClock.Seconds();
                trainer.Optimizer.Step(trainer.Graph.Parameters, 1e-4f);
                var t4 = ThreadCpuClock.Seconds();
                if (step < 20) continue;
                parts[0].Add(t1 - t0);
                parts[1].Add(t2 - t1);
                parts[2].Add(t3 - t2);
                parts[3].Add(t4 - t3);
                parts[4].Add(t4 - t0);
            }
            string M(List<double> v) => $"{v.Order().ElementAt(v.Count / 2) * 1000:F3}";
            Console.WriteLine($"sparsity {sparsity:P0} ({(magnitude ? "magnitude" : "random")}, {(sparseForward ? "CSR forward" : "dense forward")}), batch {batch}: batch {M(parts[0])} ms, forward {M(parts[1])} ms, loss+backward {M(parts[2])} ms, optimizer {M(parts[3])} ms, total {M(parts[4])} ms");
        }
        return 0;
    }
}
