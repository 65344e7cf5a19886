using Sparrow.Data.Embeddings;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Sensitivity;

/// <summary>How much quality a pruned copy of the model lost against the dense one: 0 = none, larger = worse.</summary>
public delegate double QualityLoss(Model pruned);

/// <summary>The built-in quality losses, measured through Sparrow's runtime.</summary>
public static class QualityLosses
{
    /// <summary>
    /// 1 − mean cosine between the pruned and the dense model's sentence embeddings (mean-pooled, normalised) of
    /// <paramref name="sentences"/>; by default the calibration sample, so that held-out sentences stay unseen by
    /// whatever is tuned on this loss. The dense embeddings are computed once, here.
    /// </summary>
    public static QualityLoss EmbeddingDrop(Model dense, IReadOnlyList<string>? sentences = null, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(dense);
        var texts = sentences ?? CalibrationSentences.Sample;
        if (texts.Count == 0) throw new ArgumentException("No sentences to compare embeddings on.", nameof(sentences));
        var expected = Embed(dense, texts, threads);
        return pruned =>
        {
            var actual = Embed(pruned, texts, threads);
            var sum = 0.0;
            for (var i = 0; i < expected.Length; i++) sum += EmbeddingMath.CosineSimilarity(expected[i], actual[i]);
            return 1 - sum / expected.Length;
        };
    }

    /// <summary>
    /// For any model: 1 − mean cosine between the pruned and the dense model's float outputs on
    /// <paramref name="inputs"/>, taken row by row along each output's last axis.
    /// </summary>
    public static QualityLoss OutputDrop(Model dense, IReadOnlyList<IReadOnlyDictionary<string, Tensor>> inputs, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("No inputs to compare outputs on.", nameof(inputs));
        var expected = Outputs(dense, inputs, threads);
        return pruned =>
        {
            var actual = Outputs(pruned, inputs, threads);
            var (sum, count) = (0.0, 0);
            for (var i = 0; i < expected.Count; i++)
            {
                var (e, a, width) = (expected[i].Values, actual[i].Values, expected[i].Width);
                for (var start = 0; start + width <= e.Length; start += width)
                {
                    sum += EmbeddingMath.CosineSimilarity(e.AsSpan(start, width), a.AsSpan(start, width));
                    count++;
                }
            }
            return count == 0 ? 0 : 1 - sum / count;
        };
    }

    /// <summary>Dense kernels: the loss is about the weights, and choosing sparse kernels would only cost time.</summary>
    private static InferenceSession Session(Model model, int threads) =>
        new(model, new SessionOptions { IntraOpThreads = threads, SparseKernel = "dense", UseKernelCache = false });

    private static float[][] Embed(Model model, IReadOnlyList<string> texts, int threads)
    {
        using var session = Session(model, threads);
        var names = session.InputMetadata.Select(i => i.Name).ToArray();
        if (!names.Contains(TokenBatch.InputIdsName))
            throw new PruningRequestException($"The embedding loss needs a sentence encoder (an input named input_ids); the model's inputs are {string.Join(", ", names)}.");
        var hidden = session.OutputMetadata.Any(o => o.Name == DefaultModel.HiddenStateOutput) ? DefaultModel.HiddenStateOutput
            : session.OutputMetadata.FirstOrDefault(o => o.ElementType == DataType.Float32 && o.Shape?.Count == 3)?.Name
              ?? throw new PruningRequestException("The embedding loss needs a token-state output ([batch, seq, dim] float32).");
        return new SentenceEmbedder(inputs => session.Run(inputs), SentenceTokenizer.Default, names, hidden).Embed(texts);
    }

    private static List<(float[] Values, int Width)> Outputs(Model model, IReadOnlyList<IReadOnlyDictionary<string, Tensor>> inputs, int threads)
    {
        using var session = Session(model, threads);
        var result = new List<(float[], int)>();
        foreach (var batch in inputs)
        {
            var outputs = session.Run(batch);
            try
            {
                foreach (var name in outputs.Keys.Order(StringComparer.Ordinal))
                    if (outputs[name] is Tensor<float> values)
                        result.Add((values.Span.ToArray(), values.Rank == 0 ? 1 : Math.Max(1, values.Shape[^1])));
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
        }
        return result;
    }
}
