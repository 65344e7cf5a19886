using System.Globalization;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Pruning.Conditional;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;
using Sparrow.Benchmarks;

namespace Sparrow.Training.Experiments;

/// <summary>
/// TEAL-style activation sparsity on the character-level GPT (the char-gpt experiment's dense model): thresholds
/// calibrated on training windows for each target sparsity; held-out perplexity with every token's layer inputs
/// thresholded (as decoding one token at a time would see them); and, per layer, the one-row product on
/// held-out activation rows: the runtime's dense one-row path (packed GEMM, m = 1) against the column-skipping
/// kernel on its packed weight (<see cref="SparseInputWeight"/>, as the runtime holds it), alternating, thread CPU time,
/// medians over rounds.
/// </summary>
internal static class ActivationSparsityExperiment
{
    public static int Run(string[] args)
    {
        string modelPath = "/tmp/char-gpt/char-gpt-dense.onnx";
        string? text = null;
        int context = 64, batch = 16, calibrationBatches = 8, evalWindows = 256, rows = 256, rounds = 15;
        double[] sparsities = [0.4, 0.5];
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--model": modelPath = Value(); break;
                case "--text": text = Value(); break;
                case "--context": context = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--rows": rows = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--eval-windows": evalWindows = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--sparsities": sparsities = Value().Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'.");
            }
        }
        var corpus = new CharCorpus(CharCorpus.LoadKingJames(text));
        var model = OnnxImporter.Load(modelPath);
        Console.WriteLine($"# Activation sparsity on {modelPath}: context {context}, calibration {calibrationBatches} × {batch} training windows, " +
            $"perplexity over {evalWindows} held-out windows; one-row timing on {rows} held-out rows per layer, {rounds} alternating rounds, " +
            $"{(ThreadCpuClock.IsAvailable ? "thread CPU time" : "wall time")}, {Sgemm.InstructionSet}, {Environment.ProcessorCount} cores (shared machine)");

        IEnumerable<IReadOnlyDictionary<string, Tensor>> Calibration()
        {
            var random = new Xoshiro256(100);
            for (var i = 0; i < calibrationBatches; i++)
                yield return new Dictionary<string, Tensor> { [ModelBuilder.InputName] = CharWindows.Sample(corpus.Train, batch, context, random).Ids };
        }

        var targets = PruningTargets.Find(model.Graph).Where(t => t.Node.OpType == "MatMul").ToList();
        var captured = CaptureRows(model, targets, corpus, context, rows);
        var densePerplexity = Perplexity(model, corpus, context, batch, evalWindows, null);
        Console.WriteLine($"dense: held-out perplexity {densePerplexity:F4}");
        var summary = new List<string>();
        foreach (var sparsity in sparsities)
        {
            var thresholds = ActivationSparsity.Calibrate(model, sparsity, Calibration());
            var perplexity = Perplexity(model, corpus, context, batch, evalWindows, thresholds);
            Console.WriteLine($"\n## {sparsity:P0} activation sparsity: held-out perplexity {perplexity:F4} ({(perplexity / densePerplexity - 1) * 100:+0.00;-0.00}% against dense)");
            Console.WriteLine("| layer | [K, N] | threshold | zeroed on held-out rows | dense one-row µs | skip kernel µs | speed-up | skip kernel at threshold 0 µs |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            double totalDense = 0, totalSparse = 0, totalZero = 0;
            foreach (var target in targets)
            {
                var w = (Tensor<float>)model.Graph.Initializers[target.WeightName];
                var x = captured[target.Node.Inputs[0]];
                var t = thresholds[target.WeightName];
                var (dense, skip, zero, zeroed) = TimeLayer(w, x, t, rounds);
                totalDense += dense; totalSparse += skip; totalZero += zero;
                Console.WriteLine($"| {target.WeightName} | [{w.Shape[0]}, {w.Shape[1]}] | {t:G3} | {zeroed:P1} | {dense:F2} | {skip:F2} | {dense / skip:F2}x | {zero:F2} |");
            }
            Console.WriteLine($"| all {targets.Count} layers | | | | {totalDense:F1} | {totalSparse:F1} | {totalDense / totalSparse:F2}x | {totalZero:F1} |");
            summary.Add($"| {sparsity:P0} | {perplexity:F4} | {(perplexity / densePerplexity - 1) * 100:+0.00;-0.00}% | {totalDense:F1} | {totalSparse:F1} | {totalDense / totalSparse:F2}x | {totalZero:F1} | {totalZero / totalSparse:F2}x |");
        }
        Console.WriteLine($"\n| activation sparsity | held-out perplexity (dense {densePerplexity:F4}) | change | dense one-row path, µs per token (all layers) | skip kernel µs | speed-up | skip kernel at threshold 0 µs | speed-up against it |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in summary) Console.WriteLine(row);
        return 0;
    }

    /// <summary>Median µs per row over rounds: packed GEMM with m = 1, the skip kernel at the threshold, and at threshold 0; plus the zeroed fraction.</summary>
    private static (double Dense, double Skip, double Zero, double Zeroed) TimeLayer(Tensor<float> w, float[] x, float threshold, int rounds)
    {
        int k = w.Shape[0], n = w.Shape[1], count = x.Length / k;
        var packed = PackedMatrix.Pack(w);
        // What the runtime runs for one row with a threshold (ActivationSparseWeight): the weight packed once for the skip kernel.
        var weight = SparseInputWeight.Pack(w);
        var y = new float[n];
        var kept = 0L;
        for (var r = 0; r < count; r++) kept += SparseInputGemv.Multiply(x.AsSpan(r * k, k), weight, y, [], threshold);
        var zeroed = 1 - (double)kept / x.Length;
        var dense = new List<double>();
        var skip = new List<double>();
        var zero = new List<double>();
        for (var round = -5; round < rounds; round++) // five warm-up rounds
        {
            var start = ThreadCpuClock.SecondsOrWall();
            for (var r = 0; r < count; r++) Sgemm.Multiply(1, x.AsSpan(r * k, k), k, false, packed, y, n);
            var afterDense = ThreadCpuClock.SecondsOrWall();
            for (var r = 0; r < count; r++) SparseInputGemv.Multiply(x.AsSpan(r * k, k), weight, y, [], threshold);
            var afterSkip = ThreadCpuClock.SecondsOrWall();
            for (var r = 0; r < count; r++) SparseInputGemv.Multiply(x.AsSpan(r * k, k), weight, y, [], 0f);
            var afterZero = ThreadCpuClock.SecondsOrWall();
            if (round < 0) continue;
            dense.Add((afterDense - start) * 1e6 / count);
            skip.Add((afterSkip - afterDense) * 1e6 / count);
            zero.Add((afterZero - afterSkip) * 1e6 / count);
        }
        return (Statistics.Median(dense), Statistics.Median(skip), Statistics.Median(zero), zeroed);
    }

    /// <summary>Each target's input as rows [rows, K] from held-out windows (the dense model's activations).</summary>
    private static Dictionary<string, float[]> CaptureRows(Model model, IReadOnlyList<PruningTarget> targets, CharCorpus corpus, int context, int rows)
    {
        var probe = model.Clone();
        var values = targets.Select(t => t.Node.Inputs[0]).Distinct().ToList();
        foreach (var v in values) probe.Graph.Outputs.Add(new ValueInfo(v, DataType.Float32, null));
        var windows = (rows + context - 1) / context;
        var random = new Xoshiro256(7);
        using var session = new InferenceSession(probe, new SessionOptions { SparseKernel = "dense", UseKernelCache = false, IntraOpThreads = 1 });
        var outputs = session.Run(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = CharWindows.Sample(corpus.HeldOut, windows, context, random).Ids });
        try
        {
            return values.ToDictionary(v => v, v => ((Tensor<float>)outputs[v]).Span.ToArray());
        }
        finally
        {
            foreach (var t in outputs.Values) t.Dispose();
        }
    }

    /// <summary>exp(mean next-character NLL) over evenly spaced held-out windows; with thresholds, every row's layer inputs are thresholded.</summary>
    private static double Perplexity(Model model, CharCorpus corpus, int context, int batchSize, int evalWindows, IReadOnlyDictionary<string, float>? thresholds)
    {
        using var session = new InferenceSession(model, new SessionOptions
        {
            IntraOpThreads = 1, SparseKernel = "dense", UseKernelCache = false,
            ActivationThresholds = thresholds, ThresholdEveryRow = true,
        });
        var text = corpus.HeldOut;
        var stride = (text.Length - context - 1) / evalWindows;
        double nll = 0;
        long count = 0;
        for (var first = 0; first < evalWindows; first += batchSize)
        {
            var batch = Math.Min(batchSize, evalWindows - first);
            var ids = new long[batch * context];
            var targets = new int[batch * context];
            for (var b = 0; b < batch; b++)
            {
                var start = (first + b) * stride;
                for (var t = 0; t < context; t++)
                {
                    ids[b * context + t] = text[start + t];
                    targets[b * context + t] = text[start + t + 1];
                }
            }
            var outputs = session.Run(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = Tensor<long>.FromArray(ids, [batch, context]) });
            try
            {
                var logits = (Tensor<float>)outputs[ModelBuilder.OutputName];
                var rows = batch * context;
                nll += Losses.CrossEntropy(logits.Reshape([rows, logits.Shape[^1]]), targets, new float[logits.Length]) * rows;
                count += rows;
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
        }
        return Math.Exp(nll / count);
    }
}
