using Sparrow.Benchmarks;
using System.Diagnostics;
using System.Globalization;
using Sparrow.Data.Datasets;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Experiments;

/// <summary>
/// LeNet-300-100 on Fashion-MNIST: train dense for N steps, magnitude-prune (per layer) to 90% and 95%,
/// recover with 10% and 20% of N with the masks enforced; report test accuracy at each point, then the time
/// per training step at 0%, 50% and 90% sparsity (sparse and dense weight-gradient paths), measured in
/// alternating rounds, medians.
/// </summary>
internal static class FashionMnistExperiment
{
    public static int Run(string[] args)
    {
        var options = Options.Parse(args);
        var train = Load(options.Data, "train");
        var test = Load(options.Data, "t10k");
        Console.WriteLine($"# Fashion-MNIST LeNet-300-100: {train.Count} train / {test.Count} test images, N = {options.Steps} steps of {options.Batch}, " +
            $"SGD momentum 0.9, lr {options.Rate} (recovery {options.RecoveryRate}{(options.Distill ? ", distilling from the dense model, T = 2, weight 0.5" : "")}) warm-up + cosine, magnitude pruning {(options.GlobalScope ? "with one global threshold" : "per layer")}, seed {options.Seed}, {options.Threads} thread(s), {Sgemm.InstructionSet}, {Environment.ProcessorCount} cores");

        if (options.Gradual)
            Console.WriteLine($"# recovery = gradual magnitude pruning from the dense model (Zhu & Gupta cubic schedule, s0 = 0, per layer, {options.GradualPrunings} pruning steps over the first {Percent(options.GradualFraction)} of the budget), then fine-tuning with the masks enforced");

        var watch = Stopwatch.StartNew();
        Model dense;
        Trainer denseTrainer;
        if (options.DenseFile is { } cached && File.Exists(cached))
        {
            // The same seed and options give the same dense model; the file only saves retraining it.
            dense = OnnxImporter.Load(cached);
            denseTrainer = NewTrainer(dense, options, options.Rate, options.Steps);
            Console.WriteLine($"dense: read from {cached}");
        }
        else
        {
            dense = ModelBuilder.Mlp([784, 300, 100, 10], options.Seed);
            denseTrainer = NewTrainer(dense, options, options.Rate, options.Steps);
            denseTrainer.Fit(train, options.Steps, Progress(options.Steps));
            if (options.DenseFile is { } path) OnnxExporter.Save(dense, path);
        }
        var denseAccuracy = denseTrainer.Accuracy(test);
        Console.WriteLine($"dense: test accuracy {Percent(denseAccuracy, 2)} after {options.Steps} steps ({watch.Elapsed.TotalSeconds:F0} s)");

        if (options.TimingOnly)
        {
            Timing(dense, train, options);
            return 0;
        }
        var rows = new List<string> { $"| dense | 0% | {options.Steps} | {Percent(denseAccuracy, 2)} | 100% |" };
        foreach (var sparsity in options.Sparsities)
        {
            var pruned = Prune(dense, sparsity, options);
            var oneShot = NewTrainer(ModelBuilder.DeepCopy(pruned), options, 0f, 1).Accuracy(test);
            rows.Add($"| pruned, no recovery | {Percent(sparsity)} | 0 | {Percent(oneShot, 2)} | {Percent(oneShot / denseAccuracy, 1)} |");
            Console.WriteLine($"{Percent(sparsity)} one-shot: {Percent(oneShot, 2)}");
            foreach (var budget in options.Budgets)
            {
                var steps = (long)Math.Round(budget * options.Steps);
                var model = ModelBuilder.DeepCopy(options.Gradual ? dense : pruned);
                var trainer = NewTrainer(model, options, options.RecoveryRate, steps);
                Func<Tensor<float>, Tensor<float>>? teacher = options.Distill ? denseTrainer.Predict : null;
                IReadOnlyList<Autograd.Parameter> masked;
                if (options.Gradual)
                {
                    // Prune the weights one-shot pruning prunes (every Gemm weight but the final classifier's) a
                    // little at a time during the first part of the budget, then fine-tune.
                    var targets = pruned.Graph.Initializers.Where(i => i.Value is Tensor<float> { Rank: >= 2 } w && w.Span.Contains(0f)).Select(i => i.Key).ToHashSet();
                    masked = trainer.Graph.Parameters.Where(p => targets.Contains(p.Name)).ToList();
                    var span = Math.Max(1, (long)Math.Round(options.GradualFraction * steps));
                    var interval = (int)Math.Max(1, span / options.GradualPrunings);
                    var schedule = new GradualPruning(0, sparsity, 0, (int)(span / interval), interval);
                    while (trainer.Step < steps)
                    {
                        schedule.Apply(trainer.Step, masked);
                        trainer.Fit(train, trainer.Step + 1, teacher: teacher, temperature: 2.0, distillationWeight: 0.5);
                    }
                }
                else
                {
                    masked = trainer.MaskZeros();
                    trainer.Fit(train, steps, teacher: teacher, temperature: 2.0, distillationWeight: 0.5);
                }
                var kept = masked.Sum(p => (long)p.Mask!.KeptCount);
                var total = masked.Sum(p => (long)p.Mask!.Length);
                Console.WriteLine($"  weights kept: {kept} of {total} ({Percent(1 - (double)kept / total, 2)} sparse)");
                var accuracy = trainer.Accuracy(test);
                var zeros = masked.Sum(p => p.Value.Span.Count(0f));
                var expected = masked.Sum(p => p.Mask!.Length - p.Mask.KeptCount);
                if (zeros < expected) throw new InvalidOperationException($"{expected - zeros} pruned weights moved during recovery.");
                rows.Add($"| recovered | {Percent(sparsity)} | {steps} ({Percent(budget)} of N) | {Percent(accuracy, 2)} | {Percent(accuracy / denseAccuracy, 1)} |");
                Console.WriteLine($"{Percent(sparsity)} recovered with {Percent(budget)} of N ({steps} steps): {Percent(accuracy, 2)}");
            }
        }
        Console.WriteLine();
        Console.WriteLine("| model | sparsity | training steps | test accuracy | of dense |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var row in rows) Console.WriteLine(row);

        if (options.SkipTiming) return 0;
        Console.WriteLine();
        Timing(dense, train, options);
        return 0;
    }

    /// <summary>Median time per step, each configuration measured in alternating rounds after a warm-up.</summary>
    private static void Timing(Model dense, ArrayDataset train, Options options)
    {
        var configurations = new List<(string Name, Trainer Trainer)>();
        foreach (var sparsity in new[] { 0.0, 0.5, 0.9 })
        {
            var model = sparsity == 0 ? ModelBuilder.DeepCopy(dense) : Prune(dense, sparsity, options);
            foreach (var sparse in sparsity == 0 ? new[] { false } : new[] { true, false })
            {
                var trainer = NewTrainer(ModelBuilder.DeepCopy(model), options, 1e-4f, long.MaxValue, sparse);
                if (sparsity > 0) trainer.MaskZeros();
                var subnormal = trainer.Graph.Parameters.Sum(p => p.Value.ToArray().Count(float.IsSubnormal));
                if (subnormal > 0) Console.WriteLine($"note: {subnormal} subnormal weights at {Percent(sparsity)} sparsity");
                configurations.Add(($"{Percent(sparsity)} {(sparsity == 0 ? "dense" : sparse ? "masked, weight gradient at kept positions when density ≤ 15%" : "masked, dense weight gradient + mask")}", trainer));
            }
        }
        var times = configurations.Select(_ => new List<double>()).ToArray();
        var cpuTimes = configurations.Select(_ => new List<double>()).ToArray();
        var collections = new int[configurations.Count];
        const int Rounds = 12;
        var perRound = Math.Max(1, options.TimingSteps / Rounds);
        for (var round = -1; round < Rounds; round++) // round -1 warms up (JIT tiers, pools)
            for (var c = 0; c < configurations.Count; c++)
            {
                var trainer = configurations[c].Trainer;
                var gcBefore = GC.CollectionCount(0);
                for (var i = 0; i < perRound; i++)
                {
                    var (wall, cpu) = Step(trainer, train);
                    if (round < 0) continue;
                    times[c].Add(wall);
                    cpuTimes[c].Add(cpu);
                }
                if (round >= 0) collections[c] += GC.CollectionCount(0) - gcBefore;
            }
        Console.WriteLine($"Time per training step (batch {options.Batch}, {options.Threads} thread(s), median of {Rounds * perRound} steps in {Rounds} alternating rounds):");
        Console.WriteLine();
        Console.WriteLine("| weights | wall ms per step | vs dense | thread CPU ms per step | vs dense | garbage collections |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        double denseWall = Statistics.Median(times[0]), denseCpu = Statistics.Median(cpuTimes[0]);
        for (var c = 0; c < configurations.Count; c++)
            Console.WriteLine($"| {configurations[c].Name} | {Statistics.Median(times[c]):F2} | {denseWall / Statistics.Median(times[c]):F2}x | {Statistics.Median(cpuTimes[c]):F2} | {denseCpu / Statistics.Median(cpuTimes[c]):F2}x | {collections[c]} |");
    }

    /// <summary>Wall and thread-CPU milliseconds of one step (batch assembly included).</summary>
    private static (double Wall, double Cpu) Step(Trainer trainer, ArrayDataset train)
    {
        var cpu = ThreadCpuClock.Seconds();
        var watch = Stopwatch.StartNew();
        trainer.Fit(train, trainer.Step + 1);
        return (watch.Elapsed.TotalMilliseconds, (ThreadCpuClock.Seconds() - cpu) * 1000);
    }

    /// <summary>Magnitude pruning of the Gemm weights, per layer or with one global threshold.</summary>
    private static Model Prune(Model model, double sparsity, Options options) =>
        Pruner.Prune(model, new PruneSettings
        {
            Method = PruningMethod.Magnitude,
            Sparsity = sparsity,
            Scope = options.GlobalScope ? ComparisonScope.Global : ComparisonScope.Layer,
        }).Pruned;

    private static string Percent(double fraction, int decimals = 0) =>
        (fraction * 100).ToString(decimals == 0 ? "0.#" : "F" + decimals, CultureInfo.InvariantCulture) + "%";

    private static Trainer NewTrainer(Model model, Options options, float rate, long steps, bool sparse = true) =>
        new(model, new SgdMomentum(0.9f), new WarmupCosineSchedule(rate, Math.Max(1, steps / 20), steps),
            new TrainerOptions { BatchSize = options.Batch, Seed = options.Seed, Threads = options.Threads, SparseWeightGradients = sparse });

    private static Action<StepResult> Progress(long steps)
    {
        double average = 0;
        return r =>
        {
            average = r.Step == 0 ? r.Loss : 0.98 * average + 0.02 * r.Loss;
            if ((r.Step + 1) % Math.Max(1, steps / 10) == 0) Console.WriteLine($"  step {r.Step + 1}/{steps}: loss {average:F4}, lr {r.LearningRate:G3}");
        };
    }

    private static ArrayDataset Load(string folder, string prefix)
    {
        string Find(string name)
        {
            foreach (var candidate in new[] { name + ".gz", name })
                if (File.Exists(Path.Combine(folder, candidate))) return Path.Combine(folder, candidate);
            throw new FileNotFoundException($"'{Path.Combine(folder, name)}(.gz)' is missing: install the Debian package dataset-fashion-mnist or pass --data DIR.");
        }
        var (shape, pixels) = IdxFile.ReadImages(Find($"{prefix}-images-idx3-ubyte"));
        var labels = IdxFile.ReadLabels(Find($"{prefix}-labels-idx1-ubyte"));
        return new ArrayDataset(pixels, [shape[1] * shape[2]], labels);
    }

    private sealed record Options(string Data, long Steps, int Batch, float Rate, float RecoveryRate, int Threads, long Seed, int TimingSteps, bool TimingOnly = false, bool Distill = false, bool GlobalScope = false)
    {
        public double[] Sparsities { get; init; } = [0.9, 0.95];
        public double[] Budgets { get; init; } = [0.1, 0.2];
        public bool Gradual { get; init; }
        public double GradualFraction { get; init; } = 0.5;
        public int GradualPrunings { get; init; } = 10;
        public bool SkipTiming { get; init; }
        public string? DenseFile { get; init; }

        private static double[] List(string text) =>
            text.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

        public static Options Parse(string[] args)
        {
            var o = new Options("/usr/share/datasets/fashion-mnist", 3000, 128, 0.05f, 0.01f, 1, 0, 60);
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                o = args[i] switch
                {
                    "--data" => o with { Data = Value() },
                    "--steps" => o with { Steps = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--batch" => o with { Batch = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--lr" => o with { Rate = float.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--recovery-lr" => o with { RecoveryRate = float.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--threads" => o with { Threads = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--seed" => o with { Seed = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--timing-only" => o with { TimingOnly = true },
                    "--distill" => o with { Distill = true },
                    "--sparsities" => o with { Sparsities = List(Value()) },
                    "--budgets" => o with { Budgets = List(Value()) },
                    "--gradual" => o with { Gradual = true },
                    "--gradual-fraction" => o with { GradualFraction = double.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--gradual-prunings" => o with { GradualPrunings = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--no-timing" => o with { SkipTiming = true },
                    "--dense" => o with { DenseFile = Value() },
                    "--scope" => Value() switch
                    {
                        "layer" => o with { GlobalScope = false },
                        "global" => o with { GlobalScope = true },
                        var other => throw new ArgumentException($"--scope is 'layer' or 'global', not '{other}'."),
                    },
                    "--timing-steps" => o with { TimingSteps = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"unknown option '{args[i]}'."),
                };
            }
            if (o.Steps < 10) throw new ArgumentException("--steps must be at least 10.");
            if (o.Gradual && o.GlobalScope) throw new ArgumentException("--gradual prunes per layer; --scope global is not supported with it.");
            if (o.GradualFraction is <= 0 or > 1) throw new ArgumentException("--gradual-fraction is in (0, 1].");
            return o;
        }
    }
}
