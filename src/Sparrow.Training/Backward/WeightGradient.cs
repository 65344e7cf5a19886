using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>
/// The weight gradient of a fully connected layer, dW[r, s] = α Σₘ P[r, m] Q[s, m] (P and Q are the two
/// operands laid out with the batch last). Dense: one GEMM. Masked: only the kept positions of the weight,
/// each a dot product of two contiguous rows, so the work scales with the weight's density.
/// </summary>
internal static class WeightGradient
{
    /// <summary>An operand as [X, M] rows: transposes a row-major [M, X] block, or copies an [X, M] one.</summary>
    public static float[] BatchLast(ReadOnlySpan<float> operand, int m, int x, bool storedBatchFirst)
    {
        var result = new float[x * m];
        if (storedBatchFirst) TensorMath.Transpose(operand[..(m * x)], m, x, result);
        else operand[..(m * x)].CopyTo(result);
        return result;
    }

    /// <summary>Writes dW (rows × columns, row-major) at the mask's kept positions; the others are set to zero.</summary>
    public static void Masked(ParameterMask mask, float[] p, float[] q, int m, float alpha, Span<float> dw, int threads)
    {
        dw.Clear();
        var rows = mask.Rows;
        var columns = mask.Columns;
        var target = dw.Length == rows * columns ? dw : throw new ArgumentException($"The weight gradient has {dw.Length} elements, the mask {rows}x{columns}.");
        var buffer = new float[rows * columns];
        void Row(int r)
        {
            var pr = p.AsSpan(r * m, m);
            for (var at = mask.RowStarts[r]; at < mask.RowStarts[r + 1]; at++)
            {
                var c = mask.KeptColumns[at];
                buffer[r * columns + c] = alpha * TensorPrimitives.Dot(pr, q.AsSpan(c * m, m));
            }
        }
        if (threads <= 1 || rows < 2)
            for (var r = 0; r < rows; r++) Row(r);
        else
            Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, Row);
        buffer.CopyTo(target);
    }

    /// <summary>dW = α · op(P)ᵀ-style product done by the dense GEMM: dW[r, s] = α Σₘ L[m, r] R[m, s] with L, R stored [M, ·].</summary>
    public static void Dense(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int m, int rows, int columns, float alpha, Span<float> dw, int threads) =>
        Sgemm.Multiply(rows, columns, m, left, rows, true, right, columns, false, dw, columns, alpha, 0f, maxThreads: threads);
}
