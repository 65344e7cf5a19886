using System.Diagnostics;
using System.Globalization;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Experiments;

/// <summary>
/// A character-level GPT on the King James text: train dense for N steps, export to ONNX and read it back, prune
/// the attention and MLP weights to 50%, 75% and 90% with Wanda or SparseGPT (calibrated on training text),
/// recover each with 10% and 20% of N with the masks enforced; report held-out perplexity at each point and
/// the time per training step (median) of each run.
/// </summary>
internal static class CharGptExperiment
{
    public static int Run(string[] args)
    {
        var o = Options.Parse(args);
        var corpus = new CharCorpus(CharCorpus.LoadKingJames(o.Text));
        var gpt = new GptOptions(corpus.Vocabulary.Count, o.Context, o.Width, o.Heads, o.Layers);
        Console.WriteLine($"# Character-level GPT on the King James text: {corpus.Train.Length:N0} training / {corpus.HeldOut.Length:N0} held-out characters " +
            $"(every 10th block of 4096 held out), vocabulary {corpus.Vocabulary.Count}; {o.Layers} layers × width {o.Width}, {o.Heads} heads, context {o.Context}, " +
            $"{gpt.ParameterCount:N0} parameters; N = {o.Steps} steps of {o.Batch} windows, AdamW lr {o.Rate} (recovery {o.RecoveryRate}) warm-up + cosine, clip 1.0; " +
            $"{o.Method} calibrated on {o.CalibrationBatches} × {o.Batch} training windows; held-out perplexity over {o.EvalWindows} windows of {o.Context}; " +
            $"seed {o.Seed}, {o.Threads} thread(s), {Sgemm.InstructionSet}, {Environment.ProcessorCount} cores");

        var model = GptBuilder.Build(gpt, o.Seed);
        var total = Stopwatch.StartNew();
        var (_, denseTime) = Train(model, corpus, o, o.Rate, o.Steps, masked: false, seed: o.Seed);
        // The rest starts from the exported file, as a user's pruning would.
        var dense = OnnxImporter.Load(OnnxExporter.ToBytes(model));
        if (o.Output is not null)
        {
            Directory.CreateDirectory(o.Output);
            OnnxExporter.Save(dense, Path.Combine(o.Output, "char-gpt-dense.onnx"));
        }
        var densePerplexity = Perplexity(dense, corpus, o);
        Console.WriteLine($"dense: held-out perplexity {densePerplexity:F3} after {o.Steps} steps, {denseTime:F0} ms per step ({total.Elapsed.TotalSeconds:F0} s)");
        var rows = new List<string> { $"| dense | 0% | {o.Steps} | {densePerplexity:F3} | {denseTime:F0} |" };

        foreach (var sparsity in o.Sparsities)
        {
            var watch = Stopwatch.StartNew();
            var (pruned, layers) = Prune(dense, corpus, sparsity, o);
            var oneShot = Perplexity(pruned, corpus, o);
            var achieved = (double)layers.Sum(l => l.Zeros) / layers.Sum(l => l.Parameters);
            rows.Add($"| {o.Method}, no recovery | {Percent(achieved)} | 0 | {oneShot:F3} | |");
            Console.WriteLine($"{Percent(sparsity)} {o.Method} ({layers.Count} weights, {Percent(achieved, 1)} of them zero): held-out perplexity {oneShot:F3} ({watch.Elapsed.TotalSeconds:F0} s)");
            foreach (var budget in o.Budgets)
            {
                var steps = (long)Math.Round(budget * o.Steps);
                var recovered = ModelBuilder.DeepCopy(pruned);
                var (trainer, time) = Train(recovered, corpus, o, o.RecoveryRate, steps, masked: true, seed: o.Seed + 1, maskNames: layers.Select(l => l.WeightName));
                var moved = trainer.Graph.Parameters.Where(p => p.Mask is not null)
                    .Sum(p => { var v = p.Value.Span; var n = 0; for (var i = 0; i < v.Length; i++) if (!p.Mask!.IsKept(i) && v[i] != 0) n++; return n; });
                if (moved > 0) throw new InvalidOperationException($"{moved} pruned weights moved during recovery.");
                var perplexity = Perplexity(recovered, corpus, o);
                if (o.Output is not null)
                    OnnxExporter.Save(recovered, Path.Combine(o.Output, $"char-gpt-{Percent(sparsity).TrimEnd('%')}-recovered-{Percent(budget).TrimEnd('%')}.onnx"));
                rows.Add($"| recovered | {Percent(achieved)} | {steps} ({Percent(budget)} of N) | {perplexity:F3} | {time:F0} |");
                Console.WriteLine($"{Percent(sparsity)} recovered with {Percent(budget)} of N ({steps} steps): held-out perplexity {perplexity:F3}, {time:F0} ms per step");
            }
        }
        Console.WriteLine();
        Console.WriteLine("| model | sparsity of pruned weights | training steps | held-out perplexity | ms per training step (median) |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine($"\ntotal {total.Elapsed.TotalMinutes:F1} min");
        return 0;
    }

    /// <summary>Trains <paramref name="model"/> in place on random training windows; returns the trainer and the median ms per step.</summary>
    private static (Trainer Trainer, double MillisecondsPerStep) Train(Model model, CharCorpus corpus, Options o, float rate, long steps, bool masked, long seed,
        IEnumerable<string>? maskNames = null)
    {
        var trainer = new Trainer(model, new AdamW(weightDecay: 0.01f), new WarmupCosineSchedule(rate, Math.Max(1, steps / 10), steps),
            new TrainerOptions { Threads = o.Threads, ClipNorm = 1.0, Seed = seed });
        if (masked) trainer.MaskZeros(maskNames);
        var random = new Xoshiro256(seed);
        var times = new List<double>();
        double average = double.NaN;
        for (var step = 0L; step < steps; step++)
        {
            var (ids, targets) = CharWindows.Sample(corpus.Train, o.Batch, o.Context, random);
            var result = trainer.TrainStep(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = ids },
                (logits, gradient) => Losses.CrossEntropy(logits.Reshape([o.Batch * o.Context, logits.Shape[^1]]), targets, gradient));
            times.Add(result.Elapsed.TotalMilliseconds);
            average = double.IsNaN(average) ? result.Loss : 0.95 * average + 0.05 * result.Loss;
            if ((step + 1) % Math.Max(1, steps / 8) == 0 || step == steps - 1)
                Console.WriteLine($"  step {step + 1}/{steps}: loss {average:F4}, lr {result.LearningRate:G3}, {result.Elapsed.TotalMilliseconds:F0} ms");
        }
        return (trainer, Statistics.Median(times));
    }

    /// <summary>B random windows: ids [B, T] and the next character of each position.</summary>
    /// <summary>exp(mean next-character NLL) over evenly spaced held-out windows (every position of each window predicted).</summary>
    private static double Perplexity(Model model, CharCorpus corpus, Options o)
    {
        using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = o.Threads, SparseKernel = "dense", UseKernelCache = false });
        var text = corpus.HeldOut;
        var stride = (text.Length - o.Context - 1) / o.EvalWindows;
        double nll = 0;
        long count = 0;
        for (var first = 0; first < o.EvalWindows; first += o.Batch)
        {
            var batch = Math.Min(o.Batch, o.EvalWindows - first);
            var ids = new long[batch * o.Context];
            var targets = new int[batch * o.Context];
            for (var b = 0; b < batch; b++)
            {
                var start = (first + b) * stride;
                for (var t = 0; t < o.Context; t++)
                {
                    ids[b * o.Context + t] = text[start + t];
                    targets[b * o.Context + t] = text[start + t + 1];
                }
            }
            var outputs = session.Run(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = Tensor<long>.FromArray(ids, [batch, o.Context]) });
            try
            {
                var logits = (Tensor<float>)outputs[ModelBuilder.OutputName];
                var rows = batch * o.Context;
                var gradient = new float[logits.Length];
                nll += Losses.CrossEntropy(logits.Reshape([rows, logits.Shape[^1]]), targets, gradient) * rows;
                count += rows;
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
        }
        return Math.Exp(nll / count);
    }

    private static (Model, IReadOnlyList<LayerSparsity>) Prune(Model dense, CharCorpus corpus, double sparsity, Options o)
    {
        var settings = new PruneSettings { Sparsity = sparsity };
        IEnumerable<IReadOnlyDictionary<string, Tensor>> Batches()
        {
            var random = new Xoshiro256(o.Seed + 100);
            for (var i = 0; i < o.CalibrationBatches; i++)
                yield return new Dictionary<string, Tensor> { [ModelBuilder.InputName] = CharWindows.Sample(corpus.Train, o.Batch, o.Context, random).Ids };
        }
        return o.Method == "sparsegpt" ? CalibratedPruner.SparseGpt(dense, settings, Batches) : CalibratedPruner.Wanda(dense, settings, Batches());
    }

    private static string Percent(double fraction, int decimals = 0) =>
        (fraction * 100).ToString(decimals == 0 ? "0.#" : "F" + decimals, CultureInfo.InvariantCulture) + "%";

    private sealed record Options(string? Text, long Steps, int Batch, int Context, int Width, int Heads, int Layers, float Rate, float RecoveryRate,
        int Threads, long Seed, string Method, int CalibrationBatches, int EvalWindows, string? Output, double[] Sparsities, double[] Budgets)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(null, 600, 16, 64, 128, 4, 5, 3e-3f, 1e-3f, 2, 0, "wanda", 8, 256, null, [0.5, 0.75, 0.9], [0.1, 0.2]);
            double[] List(string text) => text.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
                o = args[i] switch
                {
                    "--text" => o with { Text = Value() },
                    "--steps" => o with { Steps = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--batch" => o with { Batch = Int() },
                    "--context" => o with { Context = Int() },
                    "--width" => o with { Width = Int() },
                    "--heads" => o with { Heads = Int() },
                    "--layers" => o with { Layers = Int() },
                    "--lr" => o with { Rate = float.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--recovery-lr" => o with { RecoveryRate = float.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--threads" => o with { Threads = Int() },
                    "--seed" => o with { Seed = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--method" => o with { Method = Value() is "wanda" or "sparsegpt" ? args[i] : throw new ArgumentException($"--method is 'wanda' or 'sparsegpt', not '{args[i]}'.") },
                    "--calibration-batches" => o with { CalibrationBatches = Int() },
                    "--eval-windows" => o with { EvalWindows = Int() },
                    "--out" => o with { Output = Value() },
                    "--sparsities" => o with { Sparsities = List(Value()) },
                    "--budgets" => o with { Budgets = List(Value()) },
                    _ => throw new ArgumentException($"unknown option '{args[i]}'."),
                };
            }
            if (o.Steps < 10) throw new ArgumentException("--steps must be at least 10.");
            return o;
        }
    }
}
