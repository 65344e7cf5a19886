using Sparrow.Benchmarks;
using System.Globalization;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Autograd;
using Sparrow.Training.Backward;
using Sparrow.Training.Data;

namespace Sparrow.Training.Experiments;

/// <summary>
/// The weight gradient of one fully connected layer alone, dW[out, in] = dYᵀ · X over a batch: the dense GEMM
/// against the masked kernel (only kept positions) at several densities; thread CPU time, alternating rounds, medians.
/// </summary>
internal static class WeightGradientTiming
{
    public static int Run(string[] args)
    {
        int outputs = 300, inputs = 784, batch = 128;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var v = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--out": outputs = v; break;
                case "--in": inputs = v; break;
                case "--batch": batch = v; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'.");
            }
        }
        var random = new Xoshiro256(1);
        var x = Enumerable.Range(0, batch * inputs).Select(_ => (float)random.NextGaussian()).ToArray();
        var dy = Enumerable.Range(0, batch * outputs).Select(_ => (float)random.NextGaussian()).ToArray();
        var dw = new float[outputs * inputs];
        var sparsities = new[] { 0.5, 0.75, 0.9, 0.95 };
        var masks = sparsities.Select(s => new ParameterMask(Enumerable.Range(0, outputs * inputs).Select(_ => random.NextDouble() >= s).ToArray(), [outputs, inputs])).ToArray();
        var names = new List<string> { "dense GEMM" };
        names.AddRange(sparsities.Select(s => $"masked, {s * 100:0}% sparse"));
        var actions = new List<Action>
        {
            () => Sgemm.Multiply(outputs, inputs, batch, dy, outputs, true, x, inputs, false, dw, inputs),
        };
        foreach (var mask in masks)
            actions.Add(() =>
            {
                var p = WeightGradient.BatchLast(dy, batch, outputs, storedBatchFirst: true);
                var q = WeightGradient.BatchLast(x, batch, inputs, storedBatchFirst: true);
                WeightGradient.Masked(mask, p, q, batch, 1f, dw, threads: 1);
                WeightGradient.Return(p, q);
            });
        var times = actions.Select(_ => new List<double>()).ToArray();
        for (var round = -3; round < 15; round++)
            for (var a = 0; a < actions.Count; a++)
            {
                var start = ThreadCpuClock.Seconds();
                for (var repeat = 0; repeat < 5; repeat++) actions[a]();
                if (round >= 0) times[a].Add((ThreadCpuClock.Seconds() - start) * 1000 / 5);
            }
        Console.WriteLine($"Weight gradient of a [{outputs} x {inputs}] layer over a batch of {batch}, 1 thread, {Sgemm.InstructionSet}, thread CPU time, median of 15 rounds:");
        Console.WriteLine();
        Console.WriteLine("| path | ms | vs dense |");
        Console.WriteLine("| --- | --- | --- |");
        var dense = Statistics.Median(times[0]);
        for (var a = 0; a < actions.Count; a++) Console.WriteLine($"| {names[a]} | {Statistics.Median(times[a]):F3} | {dense / Statistics.Median(times[a]):F2}x |");
        return 0;
    }
}
