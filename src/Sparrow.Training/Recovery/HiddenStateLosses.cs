using Sparrow.Tensors;

namespace Sparrow.Training.Recovery;

/// <summary>
/// Distillation losses on a sentence encoder's token states [batch, seq, dim] against a teacher's, with padding
/// (attention mask 0) left out. Each returns the batch loss and writes its gradient with respect to the student's states.
/// </summary>
public static class HiddenStateLosses
{
    /// <summary>Mean squared error over the real tokens' states: Σ (s − t)² / (tokens × dim).</summary>
    public static double MaskedMeanSquaredError(Tensor<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<long> attentionMask, Span<float> gradient)
    {
        var (batch, sequence, dim) = Dimensions(student, teacher, attentionMask);
        ReadOnlySpan<float> s = student.Span;
        var tokens = 0;
        foreach (var m in attentionMask) if (m != 0) tokens++;
        var scale = 1.0 / Math.Max(1, tokens * dim);
        double total = 0;
        for (var position = 0; position < batch * sequence; position++)
        {
            var at = position * dim;
            if (attentionMask[position] == 0)
            {
                gradient.Slice(at, dim).Clear();
                continue;
            }
            for (var k = at; k < at + dim; k++)
            {
                var d = (double)s[k] - teacher[k];
                total += d * d;
                gradient[k] = (float)(2 * d * scale);
            }
        }
        return total * scale;
    }

    /// <summary>
    /// 1 − cosine between the student's and the teacher's sentence embeddings (token states averaged over the real
    /// tokens, as sentence-transformers pool them), averaged over the batch.
    /// </summary>
    public static double EmbeddingCosineDistance(Tensor<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<long> attentionMask, Span<float> gradient)
    {
        var (batch, sequence, dim) = Dimensions(student, teacher, attentionMask);
        ReadOnlySpan<float> s = student.Span;
        gradient.Clear();
        double total = 0;
        var es = new double[dim];
        var et = new double[dim];
        for (var b = 0; b < batch; b++)
        {
            Array.Clear(es);
            Array.Clear(et);
            var tokens = 0;
            for (var p = 0; p < sequence; p++)
            {
                if (attentionMask[b * sequence + p] == 0) continue;
                tokens++;
                var at = (b * sequence + p) * dim;
                for (var k = 0; k < dim; k++)
                {
                    es[k] += s[at + k];
                    et[k] += teacher[at + k];
                }
            }
            if (tokens == 0) continue;
            double dot = 0, ns = 0, nt = 0;
            for (var k = 0; k < dim; k++)
            {
                es[k] /= tokens;
                et[k] /= tokens;
                dot += es[k] * et[k];
                ns += es[k] * es[k];
                nt += et[k] * et[k];
            }
            var normS = Math.Sqrt(ns) + 1e-12;
            var normT = Math.Sqrt(nt) + 1e-12;
            var cosine = dot / (normS * normT);
            total += 1 - cosine;
            // d(1 − cos)/d es = −(et / (|es||et|) − cos · es / |es|²); each real token's state adds 1/tokens of es.
            for (var p = 0; p < sequence; p++)
            {
                if (attentionMask[b * sequence + p] == 0) continue;
                var at = (b * sequence + p) * dim;
                for (var k = 0; k < dim; k++)
                    gradient[at + k] = (float)(-(et[k] / (normS * normT) - cosine * es[k] / (normS * normS)) / tokens / batch);
            }
        }
        return total / batch;
    }

    private static (int Batch, int Sequence, int Dim) Dimensions(Tensor<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<long> attentionMask)
    {
        if (student.Rank != 3) throw new ArgumentException($"Token states must be [batch, seq, dim]; got {TensorShape.Format(student.Shape)}.");
        if (teacher.Length != student.Length) throw new ArgumentException($"The teacher's states hold {teacher.Length} values, the student's {student.Length}.");
        var (batch, sequence, dim) = (student.Shape[0], student.Shape[1], student.Shape[2]);
        if (attentionMask.Length != batch * sequence) throw new ArgumentException($"The attention mask holds {attentionMask.Length} values for {batch}x{sequence} tokens.");
        return (batch, sequence, dim);
    }
}
