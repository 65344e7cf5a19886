using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;
using Sparrow.Training.Data;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Recovery;

/// <summary>What a pruned sentence encoder is distilled towards.</summary>
public enum SentenceDistillationLoss
{
    /// <summary>Mean squared error between the student's and the teacher's token states (real tokens only).</summary>
    HiddenStateMse,

    /// <summary>1 − cosine between the mean-pooled sentence embeddings.</summary>
    EmbeddingCosine,
}

/// <summary>How <see cref="SentenceEncoderRecovery"/> trains.</summary>
public sealed class SentenceEncoderRecoveryOptions
{
    /// <summary>The token-state output [batch, seq, dim] both models share.</summary>
    public string HiddenStateOutput { get; init; } = "last_hidden_state";

    /// <summary>The distillation loss.</summary>
    public SentenceDistillationLoss Loss { get; init; } = SentenceDistillationLoss.HiddenStateMse;

    /// <summary>Steps in all (the schedule's length).</summary>
    public long Steps { get; init; } = 100;

    /// <summary>Sentences per step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>AdamW's peak learning rate (reached after the warm-up, then a cosine decay to zero).</summary>
    public float LearningRate { get; init; } = 1e-4f;

    /// <summary>Share of the steps spent warming the learning rate up from zero.</summary>
    public double WarmupFraction { get; init; } = 0.1;

    /// <summary>AdamW's decoupled weight decay; 0 by default, since the teacher, not a prior, says where the weights belong.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Clip the global gradient norm to this; null: no clipping.</summary>
    public double? ClipNorm { get; init; } = 1.0;

    /// <summary>Seeds the order of the sentences.</summary>
    public long Seed { get; init; }

    /// <summary>Threads per operator and backward rule.</summary>
    public int Threads { get; init; } = 1;
}

/// <summary>
/// Recovers a pruned sentence encoder (BERT-style: input_ids, attention_mask, optionally token_type_ids; a token-state
/// output) by distillation from its dense teacher on tokenized sentences. The masks are the pruned model's zeros:
/// every weight matrix with zeros keeps exactly those at zero through training (<see cref="Trainer.MaskZeros"/>).
/// Embedding tables (read by Gather) and scalars stay frozen: the teacher shares them, and training the word table
/// would cost an update of every row per step for little gain. The student's initializers change in place.
/// </summary>
public sealed class SentenceEncoderRecovery
{
    private readonly Func<IReadOnlyDictionary<string, Tensor>, Tensor<float>> _teacher;
    private readonly IReadOnlyList<int[]> _sentences;
    private readonly int _paddingId;
    private readonly string[] _inputNames;
    private BatchSampler _sampler;

    /// <param name="student">The pruned model; its weights are trained in place.</param>
    /// <param name="teacher">Returns the teacher's token states for a batch of inputs (a new tensor the caller disposes).</param>
    /// <param name="sentences">Token ids per sentence, with their special tokens ([CLS] ... [SEP]).</param>
    /// <param name="paddingId">The id that pads shorter sentences (masked out).</param>
    /// <param name="options">How to train.</param>
    public SentenceEncoderRecovery(Model student, Func<IReadOnlyDictionary<string, Tensor>, Tensor<float>> teacher, IReadOnlyList<int[]> sentences,
        int paddingId = 0, SentenceEncoderRecoveryOptions? options = null)
    {
        Options = options ?? new SentenceEncoderRecoveryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.Steps, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.BatchSize, 1);
        if (sentences.Count == 0) throw new ArgumentException("Recovery needs at least one sentence.", nameof(sentences));
        if (sentences.Any(s => s.Length == 0)) throw new ArgumentException("A sentence has no tokens.", nameof(sentences));
        _teacher = teacher;
        _sentences = sentences;
        _paddingId = paddingId;
        _inputNames = student.Graph.Inputs.Select(i => i.Name).Where(n => !student.Graph.Initializers.ContainsKey(n)).ToArray();
        if (!_inputNames.Contains(InputIds))
            throw new ArgumentException($"The model is not a sentence encoder: its inputs are {string.Join(", ", _inputNames)}; expected {InputIds}.", nameof(student));
        if (!student.Graph.Outputs.Any(o => o.Name == Options.HiddenStateOutput))
            throw new ArgumentException($"The model has no output '{Options.HiddenStateOutput}'; its outputs are {string.Join(", ", student.Graph.Outputs.Select(o => o.Name))}.", nameof(student));
        var warmup = (long)Math.Round(Options.Steps * Options.WarmupFraction);
        Trainer = new Trainer(student, new AdamW(weightDecay: Options.WeightDecay),
            new WarmupCosineSchedule(Options.LearningRate, Math.Max(1, warmup), Math.Max(1, Options.Steps)),
            new TrainerOptions { OutputName = Options.HiddenStateOutput, Threads = Options.Threads, ClipNorm = Options.ClipNorm, Seed = Options.Seed },
            TrainableWeights(student));
        Masked = Trainer.MaskZeros(Trainer.Graph.Parameters.Where(p => p.Value.Rank >= 2 && p.Value.Span.Contains(0f)).Select(p => p.Name).ToArray());
        _sampler = NewSampler();
    }

    private const string InputIds = "input_ids";
    private const string AttentionMask = "attention_mask";
    private const string TokenTypeIds = "token_type_ids";

    /// <summary>The options.</summary>
    public SentenceEncoderRecoveryOptions Options { get; }

    /// <summary>The trainer (its graph, optimizer, step and checkpoints).</summary>
    public Trainer Trainer { get; }

    /// <summary>The parameters whose zeros are kept: the pruned weights.</summary>
    public IReadOnlyList<Parameter> Masked { get; }

    /// <summary>Steps taken so far.</summary>
    public long Step => Trainer.Step;

    /// <summary>Sentences per pass over the data, in steps (rounded up).</summary>
    public long StepsPerEpoch => (_sentences.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>
    /// The initializers that train: float tensors of more than one element that no Gather reads as its table
    /// (embedding tables stay as the teacher has them).
    /// </summary>
    public static IReadOnlyList<string> TrainableWeights(Model model)
    {
        var tables = new HashSet<string>(model.Graph.Nodes.Where(n => n.OpType == "Gather" && n.Inputs.Count > 0).Select(n => n.Inputs[0]));
        return model.Graph.Initializers.Where(e => e.Value is Tensor<float> t && t.Length > 1 && !tables.Contains(e.Key)).Select(e => e.Key).ToArray();
    }

    /// <summary>One step on the next batch: the teacher's states, the student's forward and backward, an AdamW update.</summary>
    public StepResult TrainStep()
    {
        var indices = _sampler.Next();
        var (inputs, mask, tokens) = Batch(indices);
        try
        {
            using var target = _teacher(inputs);
            var result = Trainer.TrainStep(inputs, (output, gradient) =>
            {
                if (output.Length != target.Length)
                    throw new InvalidOperationException($"The teacher's '{Options.HiddenStateOutput}' is {TensorShape.Format(target.Shape)}, the student's {TensorShape.Format(output.Shape)}.");
                return Options.Loss == SentenceDistillationLoss.EmbeddingCosine
                    ? HiddenStateLosses.EmbeddingCosineDistance(output, target.Span, mask, gradient)
                    : HiddenStateLosses.MaskedMeanSquaredError(output, target.Span, mask, gradient);
            });
            LastBatchTokens = tokens;
            return result;
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
        }
    }

    /// <summary>Real (unpadded) tokens in the last step's batch, for throughput.</summary>
    public int LastBatchTokens { get; private set; }

    /// <summary>Trains until <see cref="Step"/> reaches <see cref="SentenceEncoderRecoveryOptions.Steps"/>, reporting each step.</summary>
    public void Run(Action<StepResult>? progress = null, string? checkpointPath = null, int checkpointEvery = 0)
    {
        while (Step < Options.Steps)
        {
            var result = TrainStep();
            progress?.Invoke(result);
            if (checkpointPath is not null && checkpointEvery > 0 && Step % checkpointEvery == 0 && Step < Options.Steps) SaveCheckpoint(checkpointPath);
        }
    }

    /// <summary>Writes the weights, masks, optimizer state and step atomically (the batch order is replayed from the seed on load).</summary>
    public void SaveCheckpoint(string path) => Trainer.SaveCheckpoint(path);

    /// <summary>Restores a checkpoint of this run and replays the batch order up to its step, so training continues as if never stopped.</summary>
    public void LoadCheckpoint(string path)
    {
        Trainer.LoadCheckpoint(path);
        if (Step > Options.Steps) throw new InvalidDataException($"'{path}' is at step {Step}, past this run's {Options.Steps} steps.");
        _sampler = NewSampler();
        for (long i = 0; i < Step; i++) _sampler.Next();
    }

    /// <summary>
    /// Mean cosine between the student's and the teacher's sentence embeddings (token states mean-pooled over the
    /// real tokens) of <paramref name="sentences"/>: 1 when they agree exactly.
    /// </summary>
    public double Fidelity(IReadOnlyList<int[]> sentences, int batchSize = 16)
    {
        double total = 0;
        for (var start = 0; start < sentences.Count; start += batchSize)
        {
            var indices = Enumerable.Range(start, Math.Min(batchSize, sentences.Count - start)).ToArray();
            var (inputs, mask, _) = Batch(indices, sentences);
            try
            {
                using var target = _teacher(inputs);
                using var pass = Trainer.Graph.Forward(inputs);
                var output = pass.FloatValue(Options.HiddenStateOutput);
                var gradient = new float[output.Length];
                // 1 − mean cosine over the batch; the gradient is not used.
                total += indices.Length * (1 - HiddenStateLosses.EmbeddingCosineDistance(output, target.Span, mask, gradient));
            }
            finally
            {
                foreach (var t in inputs.Values) t.Dispose();
            }
        }
        return total / sentences.Count;
    }

    private BatchSampler NewSampler() => new(_sentences.Count, Options.BatchSize, Options.Seed);

    private (Dictionary<string, Tensor> Inputs, long[] Mask, int Tokens) Batch(int[] indices, IReadOnlyList<int[]>? from = null)
    {
        from ??= _sentences;
        var longest = indices.Max(i => from[i].Length);
        var shape = new[] { indices.Length, longest };
        var ids = Tensor<long>.Allocate(shape, clear: false);
        var mask = new long[indices.Length * longest];
        ids.Span.Fill(_paddingId);
        var tokens = 0;
        for (var b = 0; b < indices.Length; b++)
        {
            var sentence = from[indices[b]];
            for (var p = 0; p < sentence.Length; p++)
            {
                ids.Span[b * longest + p] = sentence[p];
                mask[b * longest + p] = 1;
            }
            tokens += sentence.Length;
        }
        var inputs = new Dictionary<string, Tensor> { [InputIds] = ids };
        if (_inputNames.Contains(AttentionMask)) inputs[AttentionMask] = Tensor<long>.FromArray((long[])mask.Clone(), shape);
        if (_inputNames.Contains(TokenTypeIds)) inputs[TokenTypeIds] = Tensor<long>.Allocate(shape);
        foreach (var name in _inputNames)
            if (!inputs.ContainsKey(name)) throw new ArgumentException($"The model takes an input '{name}' that a sentence encoder does not have.");
        return (inputs, mask, tokens);
    }
}
