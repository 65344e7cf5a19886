using System.Diagnostics;
using System.Globalization;
using Sparrow.Benchmarks;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Experiments;

/// <summary>
/// A small mixture-of-experts character GPT on the King James text (issue 8): the same decoder three times,
/// each trained for N steps on the same windows — a dense MLP of width ratio·k·D (the dense model of equal
/// active parameters), and MoE MLPs of E experts of width ratio·D with k per token, without and with the
/// load-balancing (and router z) losses. Reports held-out perplexity, per-expert load (the share of the
/// tokens' k choices each expert takes, per layer, on held-out text) and the median step time.
/// </summary>
internal static class MoEGptExperiment
{
    public static int Run(string[] args)
    {
        var o = Options.Parse(args);
        var corpus = new CharCorpus(CharCorpus.LoadKingJames(o.Text));
        var moe = new GptOptions(corpus.Vocabulary.Count, o.Context, o.Width, o.Heads, o.Layers, MlpRatio: o.ExpertRatio, Experts: o.Experts, ExpertsPerToken: o.K);
        var dense = new GptOptions(corpus.Vocabulary.Count, o.Context, o.Width, o.Heads, o.Layers, MlpRatio: o.ExpertRatio * o.K);
        Console.WriteLine($"# MoE character GPT on the King James text: {corpus.Train.Length:N0} training / {corpus.HeldOut.Length:N0} held-out characters, " +
            $"vocabulary {corpus.Vocabulary.Count}; {o.Layers} layers × width {o.Width}, {o.Heads} heads, context {o.Context}; " +
            $"MoE: {o.Experts} experts of MLP {o.ExpertRatio}×, k = {o.K}: {moe.ParameterCount:N0} parameters, {moe.ActiveParameterCount:N0} active per token; " +
            $"dense: MLP {o.ExpertRatio * o.K}×, {dense.ParameterCount:N0} parameters; N = {o.Steps} steps of {o.Batch} windows, AdamW lr {o.Rate} warm-up + cosine, " +
            $"clip 1.0; aux coefficients: load balance {o.Balance}, z-loss {o.ZLoss}; seed {o.Seed}, {o.Threads} thread(s), {Sgemm.InstructionSet}, " +
            $"{Environment.ProcessorCount} cores");

        var rows = new List<string>();
        var balanceRows = new List<string>();
        var trained = new List<(string Name, Model Model, GptOptions Options)>();
        foreach (var (name, options, balance, zLoss) in new[]
                 {
                     ("dense (equal active parameters)", dense, 0.0, 0.0),
                     ("MoE, no auxiliary loss", moe, 0.0, 0.0),
                     ($"MoE, load balance {o.Balance} + z-loss {o.ZLoss}", moe, o.Balance, o.ZLoss),
                 })
        {
            var watch = Stopwatch.StartNew();
            var model = GptBuilder.Build(options, o.Seed);
            var stepTime = Train(model, options, corpus, o, balance, zLoss);
            var (perplexity, loads, evalMs) = Evaluate(model, options, corpus, o);
            trained.Add((name, model, options));
            Console.WriteLine($"{name}: held-out perplexity {perplexity:F3}, {stepTime:F0} ms per step, evaluation {evalMs:F0} ms ({watch.Elapsed.TotalSeconds:F0} s)");
            var loadText = loads.Count == 0 ? "" : string.Join("; ", loads.Select((l, i) => $"L{i}: " + string.Join(" ", l.Select(f => Percent(f)))));
            string spread = "", maxLoad = "";
            if (loads.Count > 0)
            {
                // max share / ideal share (1/E): 1 is perfect balance, E is collapse onto one expert... per layer, the worst layer.
                maxLoad = loads.Max(l => l.Max() * o.Experts).ToString("F2", CultureInfo.InvariantCulture);
                spread = loads.Average(l => CoefficientOfVariation(l)).ToString("F2", CultureInfo.InvariantCulture);
                Console.WriteLine($"  expert load (share of choices) {loadText}");
                balanceRows.Add($"| {name} | {loadText} |");
            }
            rows.Add($"| {name} | {options.ParameterCount:N0} | {options.ActiveParameterCount:N0} | {perplexity:F3} | {maxLoad} | {spread} | {stepTime:F0} | {evalMs:F0} |");
        }
        Console.WriteLine();
        Console.WriteLine("| model | parameters | active per token | held-out perplexity | max expert load ÷ ideal (worst layer) | load CV (mean over layers) | ms per training step (median) | held-out evaluation ms |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine();
        Console.WriteLine("| model | per-layer expert load on held-out text (share of the tokens' k choices; ideal " + Percent(1.0 / o.Experts) + " each) |");
        Console.WriteLine("| --- | --- |");
        foreach (var row in balanceRows) Console.WriteLine(row);

        // Speed needs no training: a dense model as large as the MoE in total runs at the speed it would run trained.
        var denseTotal = new GptOptions(corpus.Vocabulary.Count, o.Context, o.Width, o.Heads, o.Layers, MlpRatio: o.ExpertRatio * o.Experts);
        trained.Add(($"dense of equal total MLP width ({o.ExpertRatio * o.Experts}×, untrained, speed only)", GptBuilder.Build(denseTotal, o.Seed), denseTotal));
        ReportInferenceSpeed(trained, corpus, o);
        return 0;
    }

    /// <summary>
    /// Inference cost of each model on the same held-out batch (o.Batch windows of o.Context characters), one thread,
    /// thread CPU time, models alternating in every round so that drifts of the machine hit all alike.
    /// </summary>
    private static void ReportInferenceSpeed(List<(string Name, Model Model, GptOptions Options)> models, CharCorpus corpus, Options o)
    {
        var ids = new long[o.Batch * o.Context];
        var stride = (corpus.HeldOut.Length - o.Context) / o.Batch;
        for (var b = 0; b < o.Batch; b++)
            for (var t = 0; t < o.Context; t++) ids[b * o.Context + t] = corpus.HeldOut[b * stride + t];
        var input = new Dictionary<string, Tensor> { [ModelBuilder.InputName] = Tensor<long>.FromArray(ids, [o.Batch, o.Context]) };
        var sessions = models.Select(m => new InferenceSession(m.Model, new SessionOptions { IntraOpThreads = 1, SparseKernel = "dense", UseKernelCache = false })).ToArray();
        var times = models.Select(_ => new List<double>()).ToArray();
        for (var round = -3; round < o.SpeedRounds; round++)
            for (var m = 0; m < sessions.Length; m++)
            {
                var start = ThreadCpuClock.SecondsOrWall();
                var outputs = sessions[m].Run(input);
                var elapsed = ThreadCpuClock.SecondsOrWall() - start;
                foreach (var t in outputs.Values) t.Dispose();
                if (round >= 0) times[m].Add(elapsed * 1e3);
            }
        foreach (var s in sessions) s.Dispose();

        var tokens = o.Batch * o.Context;
        var baseline = Statistics.Median(times[0]);
        Console.WriteLine();
        Console.WriteLine($"Inference on {o.Batch} held-out windows of {o.Context} ({tokens} tokens), 1 thread, " +
            $"{(ThreadCpuClock.IsAvailable ? "thread CPU time" : "wall time")}, median of {o.SpeedRounds} alternating rounds after 3 warm-up rounds:");
        Console.WriteLine("| model | parameters | active per token | ms per batch | tokens per s | time ÷ dense of equal active parameters |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        for (var m = 0; m < models.Count; m++)
        {
            var ms = Statistics.Median(times[m]);
            Console.WriteLine($"| {models[m].Name} | {models[m].Options.ParameterCount:N0} | {models[m].Options.ActiveParameterCount:N0} | {ms:F2} | " +
                $"{tokens / (ms / 1e3):N0} | {ms / baseline:F2} |");
        }
    }

    private static double CoefficientOfVariation(double[] values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Average(v => (v - mean) * (v - mean))) / mean;
    }

    /// <summary>Trains in place: next-character cross-entropy plus, for MoE, the weighted router losses of every layer; returns the median ms per step.</summary>
    private static double Train(Model model, GptOptions gpt, CharCorpus corpus, Options o, double balance, double zLoss)
    {
        var trainer = new Trainer(model, new AdamW(weightDecay: 0.01f), new WarmupCosineSchedule(o.Rate, Math.Max(1, o.Steps / 10), o.Steps),
            new TrainerOptions { Threads = o.Threads, ClipNorm = 1.0, Seed = o.Seed });
        var graph = trainer.Graph;
        var random = new Xoshiro256(o.Seed);
        var times = new List<double>();
        double average = double.NaN, averageAux = 0;
        for (var step = 0L; step < o.Steps; step++)
        {
            var watch = Stopwatch.StartNew();
            var (ids, targets) = CharWindows.Sample(corpus.Train, o.Batch, o.Context, random);
            graph.ZeroGradients();
            double loss, aux = 0;
            using (var pass = graph.Forward(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = ids }))
            {
                var logits = pass.FloatValue(ModelBuilder.OutputName);
                var gradient = new float[logits.Length];
                loss = Losses.CrossEntropy(logits.Reshape([o.Batch * o.Context, logits.Shape[^1]]), targets, gradient);
                var gradients = new Dictionary<string, Tensor<float>> { [ModelBuilder.OutputName] = Tensor<float>.FromArray(gradient, logits.CopyShape()) };
                if (gpt.Experts > 0 && (balance > 0 || zLoss > 0))
                    for (var layer = 0; layer < gpt.Layers; layer++)
                    {
                        var router = pass.FloatValue(GptBuilder.RouterLogitsOutput(layer));
                        var total = new float[router.Length];
                        var part = new float[router.Length];
                        if (balance > 0)
                        {
                            aux += Losses.LoadBalancing(router, gpt.ExpertsPerToken, balance, part);
                            for (var i = 0; i < total.Length; i++) total[i] += part[i];
                        }
                        if (zLoss > 0)
                        {
                            aux += Losses.RouterZLoss(router, zLoss, part);
                            for (var i = 0; i < total.Length; i++) total[i] += part[i];
                        }
                        gradients[GptBuilder.RouterLogitsOutput(layer)] = Tensor<float>.FromArray(total, router.CopyShape());
                    }
                pass.Backward(gradients);
            }
            GradientClipping.ClipGlobalNorm(graph.Parameters, 1.0);
            var rate = trainer.Schedule.Rate(step);
            trainer.Optimizer.Step(graph.Parameters, rate);
            times.Add(watch.Elapsed.TotalMilliseconds);
            average = double.IsNaN(average) ? loss : 0.95 * average + 0.05 * loss;
            averageAux = 0.95 * averageAux + 0.05 * aux;
            if ((step + 1) % Math.Max(1, o.Steps / 8) == 0 || step == o.Steps - 1)
                Console.WriteLine($"  step {step + 1}/{o.Steps}: loss {average:F4}, aux {averageAux:F4}, lr {rate:G3}, {watch.Elapsed.TotalMilliseconds:F0} ms");
        }
        return Statistics.Median(times);
    }

    /// <summary>Held-out perplexity over evenly spaced windows, each layer's expert load (share of choices), and the evaluation's wall time.</summary>
    private static (double Perplexity, List<double[]> Loads, double Milliseconds) Evaluate(Model model, GptOptions gpt, CharCorpus corpus, Options o)
    {
        var watch = Stopwatch.StartNew();
        using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = o.Threads, SparseKernel = "dense", UseKernelCache = false });
        var text = corpus.HeldOut;
        var stride = (text.Length - o.Context - 1) / o.EvalWindows;
        var counts = Enumerable.Range(0, gpt.Experts > 0 ? gpt.Layers : 0).Select(_ => new long[gpt.Experts]).ToList();
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
                nll += Losses.CrossEntropy(logits.Reshape([rows, logits.Shape[^1]]), targets, new float[logits.Length]) * rows;
                count += rows;
                for (var layer = 0; layer < counts.Count; layer++)
                {
                    var layerCounts = ((Tensor<long>)outputs[GptBuilder.ExpertCountsOutput(layer)]).Span;
                    for (var e = 0; e < gpt.Experts; e++) counts[layer][e] += layerCounts[e];
                }
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
        }
        var loads = counts.Select(c => c.Select(v => (double)v / c.Sum()).ToArray()).ToList();
        return (Math.Exp(nll / count), loads, watch.Elapsed.TotalMilliseconds);
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";

    private sealed record Options(string? Text, long Steps, int Batch, int Context, int Width, int Heads, int Layers, int Experts, int K, int ExpertRatio,
        float Rate, double Balance, double ZLoss, int Threads, long Seed, int EvalWindows, int SpeedRounds)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(null, 300, 16, 64, 96, 4, 3, 8, 2, 2, 3e-3f, 0.01, 0.001, 2, 0, 128, 15);
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
                double Double() => double.Parse(Value(), CultureInfo.InvariantCulture);
                o = args[i] switch
                {
                    "--text" => o with { Text = Value() },
                    "--steps" => o with { Steps = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--batch" => o with { Batch = Int() },
                    "--context" => o with { Context = Int() },
                    "--width" => o with { Width = Int() },
                    "--heads" => o with { Heads = Int() },
                    "--layers" => o with { Layers = Int() },
                    "--experts" => o with { Experts = Int() },
                    "--k" => o with { K = Int() },
                    "--expert-ratio" => o with { ExpertRatio = Int() },
                    "--lr" => o with { Rate = (float)Double() },
                    "--balance" => o with { Balance = Double() },
                    "--z-loss" => o with { ZLoss = Double() },
                    "--threads" => o with { Threads = Int() },
                    "--seed" => o with { Seed = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--eval-windows" => o with { EvalWindows = Int() },
                    "--speed-rounds" => o with { SpeedRounds = Int() },
                    _ => throw new ArgumentException($"unknown option '{args[i]}'."),
                };
            }
            if (o.Steps < 10) throw new ArgumentException("--steps must be at least 10.");
            if (o.SpeedRounds < 1) throw new ArgumentException("--speed-rounds must be at least 1.");
            return o;
        }
    }
}
