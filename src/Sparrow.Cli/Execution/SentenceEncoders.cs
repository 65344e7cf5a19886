using Sparrow.Data.Embeddings;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Cli.Execution;

/// <summary>Sentence embedders over Sparrow's runtime and over ONNX Runtime, for the same model.</summary>
internal static class SentenceEncoders
{
    public static SentenceEmbedder Sparrow(InferenceSession session, SentenceTokenizer tokenizer, int maxLength) =>
        new(inputs => session.Run(inputs), tokenizer, InputNames(session.InputMetadata), HiddenState(session.OutputMetadata), maxLength);

    public static SentenceEmbedder OnnxRuntime(OrtModelRunner runner, Model model, SentenceTokenizer tokenizer, int maxLength) =>
        new(inputs => runner.RunToTensors(inputs), tokenizer, InputNames(model.Graph.RequiredInputs.ToArray()), HiddenState(model.Graph.Outputs), maxLength);

    /// <summary>
    /// Embeds texts in order of length, so that each batch pads to similar lengths (short texts cost little), and
    /// returns the embeddings in the texts' order. Padding is masked out, so the order changes no embedding.
    /// </summary>
    public static float[][] EmbedByLength(SentenceEmbedder embedder, IReadOnlyList<string> texts, Action<int, int>? progress = null)
    {
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ThenBy(i => i).ToArray();
        var embeddings = EmbedInChunks(embedder, order.Select(i => texts[i]).ToArray(), progress);
        var result = new float[texts.Count][];
        for (var k = 0; k < order.Length; k++) result[order[k]] = embeddings[k];
        return result;
    }

    /// <summary>Texts embedded per this many, so that progress moves during a long list.</summary>
    public const int ChunkSize = 64;

    /// <summary>Embeds <paramref name="texts"/> in order, <see cref="ChunkSize"/> at a time, telling <paramref name="progress"/> (texts done, total) after each chunk.</summary>
    public static float[][] EmbedInChunks(SentenceEmbedder embedder, IReadOnlyList<string> texts, Action<int, int>? progress = null)
    {
        if (progress is null || texts.Count <= ChunkSize)
        {
            var all = embedder.Embed(texts);
            progress?.Invoke(texts.Count, texts.Count);
            return all;
        }
        var result = new List<float[]>(texts.Count);
        for (var start = 0; start < texts.Count; start += ChunkSize)
        {
            var chunk = texts.Skip(start).Take(ChunkSize).ToArray();
            result.AddRange(embedder.Embed(chunk));
            progress(result.Count, texts.Count);
        }
        return result.ToArray();
    }

    /// <summary>Checks that the model takes token ids, and returns the inputs to feed.</summary>
    private static IReadOnlyCollection<string> InputNames(IReadOnlyList<ValueInfo> inputs)
    {
        var names = inputs.Select(i => i.Name).ToArray();
        var known = new[] { TokenBatch.InputIdsName, TokenBatch.AttentionMaskName, TokenBatch.TokenTypeIdsName };
        if (!names.Contains(TokenBatch.InputIdsName) || names.Any(n => !known.Contains(n)))
            throw new UsageException($"the model is not a BERT-style sentence encoder: its inputs are {string.Join(", ", names)}; expected input_ids, optionally attention_mask and token_type_ids.");
        return names;
    }

    /// <summary>The token-state output: last_hidden_state, or else the first rank-3 float output.</summary>
    private static string HiddenState(IReadOnlyList<ValueInfo> outputs)
    {
        if (outputs.Any(o => o.Name == DefaultModel.HiddenStateOutput)) return DefaultModel.HiddenStateOutput;
        return outputs.FirstOrDefault(o => o.ElementType == DataType.Float32 && o.Shape?.Count == 3)?.Name
            ?? throw new UsageException($"the model has no token-state output ([batch, seq, dim] float32); its outputs are {string.Join(", ", outputs.Select(o => o.Name))}.");
    }
}
