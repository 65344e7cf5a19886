using System.Diagnostics;
using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;
using Sparrow.Training.Data;
using Sparrow.Training.Optimization;

namespace Sparrow.Training;

/// <summary>How a <see cref="Trainer"/> trains.</summary>
public sealed class TrainerOptions
{
    /// <summary>The graph input that receives the features.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>The graph output the loss is computed on.</summary>
    public string OutputName { get; init; } = "logits";

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Seeds the batch order.</summary>
    public long Seed { get; init; }

    /// <summary>Clip the global gradient norm to this; null: no clipping.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Threads per operator and rule.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Compute masked weight gradients only at kept positions (the sparse path).</summary>
    public bool SparseWeightGradients { get; init; } = true;
}

/// <summary>What one step did.</summary>
public readonly record struct StepResult(long Step, double Loss, float LearningRate, double GradientNorm, TimeSpan Elapsed);

/// <summary>
/// Trains a model's parameters: mini-batches drawn with a seeded sampler, forward and backward through
/// <see cref="TrainingGraph"/>, a loss, optional global-norm clipping, a learning-rate schedule and an optimizer.
/// Masked parameters keep their pruned positions at exactly zero. Checkpoints hold the weights, masks,
/// optimizer state, step and sampler state, are written atomically, and a trainer that loads one continues
/// bit for bit as the original would have.
/// </summary>
public sealed class Trainer
{
    private const string Magic = "SPARROW-CHECKPOINT";
    private const int Version = 1;
    private BatchSampler? _sampler;
    private byte[]? _pendingSamplerState;

    /// <summary>A trainer for the float initializers named in <paramref name="parameters"/> (all float initializers when null).</summary>
    public Trainer(Model model, Optimizer optimizer, LearningRateSchedule schedule, TrainerOptions? options = null, IEnumerable<string>? parameters = null)
    {
        Options = options ?? new TrainerOptions();
        Graph = new TrainingGraph(model, parameters ?? FloatInitializers(model), Options.Threads) { SparseWeightGradients = Options.SparseWeightGradients };
        Optimizer = optimizer;
        Schedule = schedule;
    }

    /// <summary>Every float32 initializer of the model.</summary>
    public static IEnumerable<string> FloatInitializers(Model model) =>
        model.Graph.Initializers.Where(e => e.Value is Tensor<float>).Select(e => e.Key);

    /// <summary>The options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The compiled graph and its parameters.</summary>
    public TrainingGraph Graph { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>Steps taken so far (also the index of the next step).</summary>
    public long Step { get; private set; }

    /// <summary>
    /// Masks every parameter named (or, when none are named, every parameter of rank 2 or more) by its current
    /// zeros: those positions are pruned and stay zero from now on. Returns the masked parameters.
    /// </summary>
    public IReadOnlyList<Parameter> MaskZeros(IEnumerable<string>? names = null)
    {
        var chosen = names is null ? Graph.Parameters.Where(p => p.Value.Rank >= 2) : names.Select(Graph.Parameter);
        var masked = new List<Parameter>();
        foreach (var p in chosen)
        {
            p.Mask = ParameterMask.FromNonZeros(p.Value);
            masked.Add(p);
        }
        return masked;
    }

    /// <summary>One step on a given batch with a loss of the output: <paramref name="loss"/> returns the loss and writes its gradient.</summary>
    public StepResult TrainStep(IReadOnlyDictionary<string, Tensor> inputs, Func<Tensor<float>, Span<float>, double> loss)
    {
        var watch = Stopwatch.StartNew();
        Graph.ZeroGradients();
        double value;
        using (var pass = Graph.Forward(inputs))
        {
            var output = pass.FloatValue(Options.OutputName);
            var gradient = new float[output.Length];
            value = loss(output, gradient);
            pass.Backward(Options.OutputName, Tensor<float>.FromArray(gradient, output.CopyShape()));
        }
        var norm = Options.ClipNorm is { } clip ? GradientClipping.ClipGlobalNorm(Graph.Parameters, clip) : double.NaN;
        var rate = Schedule.Rate(Step);
        // The optimizers skip pruned positions, so those stay exactly zero without being reset.
        Optimizer.Step(Graph.Parameters, rate);
        return new StepResult(Step++, value, rate, norm, watch.Elapsed);
    }

    /// <summary>One cross-entropy step on a batch of features and labels.</summary>
    public StepResult TrainStep(Tensor<float> features, int[] labels) =>
        TrainStep(new Dictionary<string, Tensor> { [Options.InputName] = features },
            (output, gradient) => Losses.CrossEntropy(output, labels, gradient));

    /// <summary>
    /// Trains on <paramref name="data"/> with cross-entropy (or, given a teacher, distillation mixed with it)
    /// until <see cref="Step"/> reaches <paramref name="untilStep"/>, saving a checkpoint every
    /// <paramref name="checkpointEvery"/> steps when a path is given.
    /// </summary>
    public void Fit(ArrayDataset data, long untilStep, Action<StepResult>? progress = null, string? checkpointPath = null, int checkpointEvery = 0,
        Func<Tensor<float>, Tensor<float>>? teacher = null, double temperature = 2.0, double distillationWeight = 0.5)
    {
        var sampler = Sampler(data);
        while (Step < untilStep)
        {
            var (features, labels) = data.Batch(sampler.Next());
            using var teacherLogits = teacher?.Invoke(features);
            var result = TrainStep(new Dictionary<string, Tensor> { [Options.InputName] = features }, (output, gradient) =>
            {
                var loss = Losses.CrossEntropy(output, labels, gradient);
                if (teacherLogits is null) return loss;
                var kd = new float[gradient.Length];
                var distillation = Losses.Distillation(output, teacherLogits.Span, temperature, kd);
                for (var i = 0; i < gradient.Length; i++) gradient[i] = (float)((1 - distillationWeight) * gradient[i] + distillationWeight * kd[i]);
                return (1 - distillationWeight) * loss + distillationWeight * distillation;
            });
            progress?.Invoke(result);
            if (checkpointPath is not null && checkpointEvery > 0 && Step % checkpointEvery == 0) SaveCheckpoint(checkpointPath);
        }
    }

    /// <summary>The model's outputs for <paramref name="features"/> (a new tensor).</summary>
    public Tensor<float> Predict(Tensor<float> features)
    {
        using var pass = Graph.Forward(new Dictionary<string, Tensor> { [Options.InputName] = features });
        return pass.FloatValue(Options.OutputName).Clone();
    }

    /// <summary>Fraction of <paramref name="data"/> whose highest logit is the label.</summary>
    public double Accuracy(ArrayDataset data, int batchSize = 500)
    {
        var correct = 0;
        for (var start = 0; start < data.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, data.Count - start);
            var (features, labels) = data.Range(start, count);
            using var logits = Predict(features);
            var classes = logits.Length / count;
            ReadOnlySpan<float> z = logits.Span;
            for (var b = 0; b < count; b++)
            {
                var row = z.Slice(b * classes, classes);
                var best = 0;
                for (var c = 1; c < classes; c++)
                    if (row[c] > row[best]) best = c;
                if (best == labels[b]) correct++;
            }
        }
        return (double)correct / data.Count;
    }

    private BatchSampler Sampler(ArrayDataset data)
    {
        if (_sampler is null)
        {
            _sampler = new BatchSampler(data.Count, Options.BatchSize, Options.Seed);
            if (_pendingSamplerState is not null)
            {
                using var reader = new BinaryReader(new MemoryStream(_pendingSamplerState));
                _sampler.Load(reader);
                _pendingSamplerState = null;
            }
        }
        else if (_sampler.Count != data.Count) throw new ArgumentException($"This trainer samples {_sampler.Count} examples; the data set has {data.Count}.");
        return _sampler;
    }

    /// <summary>Writes weights, masks, optimizer state, step and sampler state to <paramref name="path"/> atomically.</summary>
    public void SaveCheckpoint(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(Step);
        writer.Write(Graph.Parameters.Count);
        foreach (var p in Graph.Parameters)
        {
            writer.Write(p.Name);
            writer.Write(p.Length);
            foreach (var v in p.Value.Span) writer.Write(v);
            writer.Write(p.Mask is not null);
            if (p.Mask is { } mask)
                for (var i = 0; i < p.Length; i++) writer.Write(mask.IsKept(i));
        }
        Optimizer.Save(writer);
        var samplerState = _pendingSamplerState;
        if (_sampler is not null)
        {
            using var buffer = new MemoryStream();
            using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) _sampler.Save(w);
            samplerState = buffer.ToArray();
        }
        writer.Write(samplerState?.Length ?? 0);
        if (samplerState is not null) writer.Write(samplerState);
    });

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> for the same parameters and optimizer kind.</summary>
    public void LoadCheckpoint(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"'{path}' is not a Sparrow training checkpoint.");
            var version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"'{path}' is a version {version} checkpoint; this build reads version {Version}.");
            var step = reader.ReadInt64();
            var count = reader.ReadInt32();
            if (count != Graph.Parameters.Count) throw new InvalidDataException($"'{path}' holds {count} parameters; this model trains {Graph.Parameters.Count}.");
            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                var p = Graph.Parameter(name);
                var length = reader.ReadInt32();
                if (length != p.Length) throw new InvalidDataException($"'{path}': parameter '{name}' has {length} values; the model's has {p.Length}.");
                var values = p.Value.Span;
                for (var j = 0; j < length; j++) values[j] = reader.ReadSingle();
                if (reader.ReadBoolean())
                {
                    var keep = new bool[length];
                    for (var j = 0; j < length; j++) keep[j] = reader.ReadBoolean();
                    p.Mask = new ParameterMask(keep, p.Value.Shape);
                }
                else p.Mask = null;
            }
            Optimizer.Load(reader);
            var samplerLength = reader.ReadInt32();
            _sampler = null;
            _pendingSamplerState = samplerLength > 0 ? reader.ReadBytes(samplerLength) : null;
            Step = step;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"'{path}' ends early: the checkpoint is truncated.");
        }
    }
}
