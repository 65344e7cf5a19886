using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Tensors;

namespace Sparrow.Data.Embeddings;

/// <summary>
/// Runs an encoder on token ids and returns its outputs; the caller of the delegate disposes them.
/// Sparrow.Data knows no runtime, so whoever builds a <see cref="SentenceEmbedder"/> supplies one
/// (Sparrow's InferenceSession, or ONNX Runtime as a reference).
/// </summary>
public delegate IReadOnlyDictionary<string, Tensor> EncoderRunner(IReadOnlyDictionary<string, Tensor> inputs);

/// <summary>
/// Sentence embeddings the sentence-transformers way: tokenise, run the encoder, mean-pool its token states
/// over the attention mask, L2-normalise.
/// </summary>
public sealed class SentenceEmbedder
{
    private readonly EncoderRunner _run;
    private readonly IReadOnlyCollection<string>? _inputNames;

    /// <param name="inputNames">The encoder's inputs, when it takes fewer than input_ids, attention_mask and token_type_ids.</param>
    public SentenceEmbedder(
        EncoderRunner run,
        SentenceTokenizer? tokenizer = null,
        IReadOnlyCollection<string>? inputNames = null,
        string hiddenStateOutput = DefaultModel.HiddenStateOutput,
        int maxLength = DefaultModel.MaxSequenceLength)
    {
        _run = run;
        Tokenizer = tokenizer ?? SentenceTokenizer.Default;
        _inputNames = inputNames;
        HiddenStateOutput = hiddenStateOutput;
        MaxLength = maxLength;
    }

    /// <summary>The tokenizer that turns texts into the encoder's inputs.</summary>
    public SentenceTokenizer Tokenizer { get; }

    /// <summary>The encoder output holding the per-token hidden states that are averaged.</summary>
    public string HiddenStateOutput { get; }

    /// <summary>The most tokens per text, [CLS] and [SEP] included; longer texts are cut.</summary>
    public int MaxLength { get; }

    /// <summary>Unit-length embeddings, one per text, computed <paramref name="batchSize"/> texts at a time.</summary>
    public float[][] Embed(IReadOnlyList<string> texts, int batchSize = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var result = new List<float[]>(texts.Count);
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            var chunk = texts.Skip(start).Take(batchSize).ToArray();
            using var tokens = Tokenizer.EncodeBatch(chunk, MaxLength);
            var outputs = _run(tokens.ToInputs(_inputNames));
            try
            {
                if (!outputs.TryGetValue(HiddenStateOutput, out var hidden))
                    throw new InvalidOperationException($"The encoder has no output '{HiddenStateOutput}'; its outputs are: {string.Join(", ", outputs.Keys)}.");
                if (hidden is not Tensor<float> states)
                    throw new InvalidOperationException($"Output '{HiddenStateOutput}' is {DataTypes.Name(hidden.ElementType)}, expected float32.");
                foreach (var embedding in EmbeddingMath.MeanPool(states, tokens.AttentionMask))
                {
                    EmbeddingMath.L2Normalize(embedding);
                    result.Add(embedding);
                }
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
        }
        return result.ToArray();
    }
}
