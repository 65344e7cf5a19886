using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Tensors;

namespace Sparrow.Data.Embeddings;

/// <summary>Turning an encoder's token states into sentence embeddings, and comparing embeddings.</summary>
public static class EmbeddingMath
{
    /// <summary>
    /// Mean of the token states over the tokens whose attention mask is non-zero, per batch row:
    /// <paramref name="hidden"/> [batch, seq, dim], <paramref name="attentionMask"/> [batch, seq].
    /// A row with no tokens gives zeros.
    /// </summary>
    public static float[][] MeanPool(Tensor<float> hidden, Tensor<long> attentionMask)
    {
        if (hidden.Rank != 3) throw new ArgumentException($"Token states must be [batch, seq, dim], got {TensorShape.Format(hidden.Shape)}.", nameof(hidden));
        int batch = hidden.Shape[0], sequence = hidden.Shape[1], dim = hidden.Shape[2];
        if (attentionMask.Rank != 2 || attentionMask.Shape[0] != batch || attentionMask.Shape[1] != sequence)
            throw new ArgumentException($"Attention mask {TensorShape.Format(attentionMask.Shape)} does not match token states {TensorShape.Format(hidden.Shape)}.", nameof(attentionMask));
        var states = hidden.Span;
        var mask = attentionMask.Span;
        var result = new float[batch][];
        for (var b = 0; b < batch; b++)
        {
            var sum = new float[dim];
            var count = 0;
            for (var s = 0; s < sequence; s++)
            {
                if (mask[b * sequence + s] == 0) continue;
                TensorPrimitives.Add(sum, states.Slice((b * sequence + s) * dim, dim), sum);
                count++;
            }
            if (count > 0) TensorPrimitives.Divide(sum, count, sum);
            result[b] = sum;
        }
        return result;
    }

    /// <summary>Scales a vector to unit length in place; a zero vector stays zero.</summary>
    public static void L2Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        // sentence-transformers clamps the norm at 1e-12 to avoid dividing by zero; so do we.
        TensorPrimitives.Divide(vector, MathF.Max(norm, 1e-12f), vector);
    }

    /// <summary>Cosine similarity; 0 when either vector is zero.</summary>
    public static float CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Vectors of length {a.Length} and {b.Length} cannot be compared.");
        var denominator = TensorPrimitives.Norm(a) * TensorPrimitives.Norm(b);
        return denominator == 0 ? 0 : TensorPrimitives.Dot(a, b) / denominator;
    }

    /// <summary>Every pair's cosine similarity.</summary>
    public static float[,] SimilarityMatrix(IReadOnlyList<float[]> embeddings)
    {
        var n = embeddings.Count;
        var result = new float[n, n];
        for (var i = 0; i < n; i++)
            for (var j = i; j < n; j++)
                result[i, j] = result[j, i] = CosineSimilarity(embeddings[i], embeddings[j]);
        return result;
    }
}
