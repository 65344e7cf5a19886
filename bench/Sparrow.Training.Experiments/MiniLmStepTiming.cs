using Sparrow.Benchmarks;
using System.Diagnostics;
using System.Globalization;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Data.Training;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Tensors;
using Sparrow.Training.Optimization;
using Sparrow.Training.Recovery;

namespace Sparrow.Training.Experiments;

/// <summary>
/// Time per training step of MiniLM's encoder (the embedded all-MiniLM-L6-v2, every weight matrix but the embeddings
/// training, AdamW, hidden-state MSE) at 0%, 50% and 90% magnitude sparsity, masks enforced: the same batch of real
/// sentences, configurations taking turns after a warm-up round, medians of wall and thread CPU time.
/// </summary>
internal static class MiniLmStepTiming
{
    public static int Run(string[] args)
    {
        int batch = 8, sequence = 32, rounds = 5, threads = 1;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i++])
            {
                case "--batch": batch = value; break;
                case "--seq": sequence = value; break;
                case "--rounds": rounds = value; break;
                case "--threads": threads = value; break;
                default: throw new ArgumentException($"unknown option {args[i - 1]}");
            }
        }
        var dense = OnnxImporter.Load(DefaultModel.OnnxBytes, sourceName: DefaultModel.Name);
        using var tokens = SentenceTokenizer.Default.EncodeBatch(RecoverySentences.Sample.Take(batch).ToArray(), sequence, sequence);
        var inputs = tokens.ToInputs(dense.Graph.Inputs.Select(i => i.Name));
        var configurations = new List<(string Name, Trainer Trainer)>();
        foreach (var sparsity in new[] { 0.0, 0.5, 0.9 })
        {
            var model = sparsity == 0 ? dense : MagnitudePruner.Prune(Models.ModelBuilder.DeepCopy(dense), sparsity).Pruned;
            foreach (var sparse in sparsity == 0 ? new[] { false } : sparsity < 0.9 ? new[] { true } : new[] { true, false })
            {
                var copy = Models.ModelBuilder.DeepCopy(model);
                var trainer = new Trainer(copy, new AdamW(weightDecay: 0), new ConstantSchedule(1e-5f),
                    new TrainerOptions { OutputName = DefaultModel.HiddenStateOutput, Threads = threads, SparseWeightGradients = sparse },
                    SentenceEncoderRecovery.TrainableWeights(copy));
                if (sparsity > 0) trainer.MaskZeros(trainer.Graph.Parameters.Where(p => p.Value.Rank >= 2 && p.Value.Span.Contains(0f)).Select(p => p.Name).ToArray());
                var label = sparsity == 0 ? "0% (dense)" : $"{sparsity * 100:0}% masked" + (sparsity >= 0.9 ? sparse ? ", weight gradient at kept positions" : ", dense weight gradient + mask" : "");
                configurations.Add((label, trainer));
            }
        }
        var wall = configurations.Select(_ => new List<double>()).ToArray();
        var cpu = configurations.Select(_ => new List<double>()).ToArray();
        for (var round = -1; round < rounds; round++) // round -1 warms up (JIT tiers, pools)
            for (var c = 0; c < configurations.Count; c++)
            {
                var trainer = configurations[c].Trainer;
                var cpuStart = ThreadCpuClock.Seconds();
                var watch = Stopwatch.StartNew();
                trainer.TrainStep(inputs, (output, gradient) => Losses.MeanSquaredError(output, new float[output.Length], gradient));
                if (round < 0) continue;
                wall[c].Add(watch.Elapsed.TotalMilliseconds);
                cpu[c].Add((ThreadCpuClock.Seconds() - cpuStart) * 1000);
            }
        Console.WriteLine($"MiniLM encoder training step (batch {batch} x {sequence} tokens, {threads} thread(s), AdamW, median of {rounds} alternating rounds):");
        Console.WriteLine();
        Console.WriteLine("| weights | wall ms per step | vs dense | thread CPU ms per step | vs dense |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        double denseWall = Statistics.Median(wall[0]), denseCpu = Statistics.Median(cpu[0]);
        for (var c = 0; c < configurations.Count; c++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {configurations[c].Name} | {Statistics.Median(wall[c]):F0} | {denseWall / Statistics.Median(wall[c]):F2}x | {Statistics.Median(cpu[c]):F0} | {denseCpu / Statistics.Median(cpu[c]):F2}x |"));
        return 0;
    }
}
