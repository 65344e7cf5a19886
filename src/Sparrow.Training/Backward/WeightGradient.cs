using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>
/// The weight gradient of a fully connected layer, dW[r, s] = α Σₘ P[r, m] Q[s, m] (P and Q are the two
/// operands laid out with the batch last). Dense: one GEMM. Masked: only the kept positions of the weight,
/// each a dot product of two contiguous rows, so the work scales with the weight's density.
/// </summary>
internal static unsafe class WeightGradient
{
    /// <summary>
    /// The density up to which the masked kernel beats the dense GEMM (which then runs and is masked after):
    /// measured on a [300 x 784] layer over a batch of 128 with AVX-512, the GEMM reaches about 185 GFLOP/s
    /// and the masked dot products about a sixth of that, so they break even near 15% density.
    /// </summary>
    public const double MaskedMaxDensity = 0.15;

    /// <summary>Whether a masked weight's gradient should take the masked kernel.</summary>
    public static bool UseMasked(ParameterMask? mask, BackwardContext context) =>
        mask is not null && context.SparseWeightGradients && mask.Density <= MaskedMaxDensity;

    /// <summary>
    /// An operand as [X, M] rows: transposes a row-major [M, X] block, or copies an [X, M] one. The array is
    /// rented from the shared pool (it may be longer): give it back with <see cref="Return"/>.
    /// </summary>
    public static float[] BatchLast(ReadOnlySpan<float> operand, int m, int x, bool storedBatchFirst)
    {
        var result = ArrayPool<float>.Shared.Rent(x * m);
        if (storedBatchFirst)
            fixed (float* source = operand)
            fixed (float* target = result)
                MatrixTranspose.Transpose(source, x, target, m, m, x);
        else operand[..(m * x)].CopyTo(result);
        return result;
    }

    /// <summary>
    /// The Vector512 path of a row when the batch is a multiple of 16: groups of four kept columns, four
    /// accumulators reduced together by horizontal adds. Returns how many kept columns it did (a multiple of 4).
    /// </summary>
    private static int Masked4(float* p, float* q, int m, int* kept, int count, float* row, float alpha)
    {
        var at = 0;
        for (; at + 4 <= count; at += 4)
        {
            float* q0 = q + (long)kept[at] * m, q1 = q + (long)kept[at + 1] * m, q2 = q + (long)kept[at + 2] * m, q3 = q + (long)kept[at + 3] * m;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var i = 0; i < m; i += Vector512<float>.Count)
            {
                var x = Vector512.Load(p + i);
                a0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(q0 + i), a0);
                a1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(q1 + i), a1);
                a2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(q2 + i), a2);
                a3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(q3 + i), a3);
            }
            var h0 = Fold(a0);
            var h1 = Fold(a1);
            var h2 = Fold(a2);
            var h3 = Fold(a3);
            var sums = Sse3.HorizontalAdd(Sse3.HorizontalAdd(h0, h1), Sse3.HorizontalAdd(h2, h3)) * alpha;
            row[kept[at]] = sums.GetElement(0);
            row[kept[at + 1]] = sums.GetElement(1);
            row[kept[at + 2]] = sums.GetElement(2);
            row[kept[at + 3]] = sums.GetElement(3);
        }
        return at;

        static Vector128<float> Fold(Vector512<float> v)
        {
            var half = v.GetLower() + v.GetUpper();
            return half.GetLower() + half.GetUpper();
        }
    }

    /// <summary>Four dot products of <paramref name="p"/> with rows of equal length: Vector512 or Vector256 lanes, then a scalar tail.</summary>
    internal static (float, float, float, float) Dot4(ReadOnlySpan<float> p, ReadOnlySpan<float> q0, ReadOnlySpan<float> q1, ReadOnlySpan<float> q2, ReadOnlySpan<float> q3)
    {
        var i = 0;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        if (Vector512.IsHardwareAccelerated && p.Length >= Vector512<float>.Count)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + Vector512<float>.Count <= p.Length; i += Vector512<float>.Count)
            {
                var x = Vector512.Create(p.Slice(i, Vector512<float>.Count));
                a0 = Vector512.FusedMultiplyAdd(x, Vector512.Create(q0.Slice(i, Vector512<float>.Count)), a0);
                a1 = Vector512.FusedMultiplyAdd(x, Vector512.Create(q1.Slice(i, Vector512<float>.Count)), a1);
                a2 = Vector512.FusedMultiplyAdd(x, Vector512.Create(q2.Slice(i, Vector512<float>.Count)), a2);
                a3 = Vector512.FusedMultiplyAdd(x, Vector512.Create(q3.Slice(i, Vector512<float>.Count)), a3);
            }
            (s0, s1, s2, s3) = (Vector512.Sum(a0), Vector512.Sum(a1), Vector512.Sum(a2), Vector512.Sum(a3));
        }
        else if (Vector256.IsHardwareAccelerated && p.Length >= Vector256<float>.Count)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + Vector256<float>.Count <= p.Length; i += Vector256<float>.Count)
            {
                var x = Vector256.Create(p.Slice(i, Vector256<float>.Count));
                a0 = Vector256.FusedMultiplyAdd(x, Vector256.Create(q0.Slice(i, Vector256<float>.Count)), a0);
                a1 = Vector256.FusedMultiplyAdd(x, Vector256.Create(q1.Slice(i, Vector256<float>.Count)), a1);
                a2 = Vector256.FusedMultiplyAdd(x, Vector256.Create(q2.Slice(i, Vector256<float>.Count)), a2);
                a3 = Vector256.FusedMultiplyAdd(x, Vector256.Create(q3.Slice(i, Vector256<float>.Count)), a3);
            }
            (s0, s1, s2, s3) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        }
        for (; i < p.Length; i++)
        {
            s0 += p[i] * q0[i];
            s1 += p[i] * q1[i];
            s2 += p[i] * q2[i];
            s3 += p[i] * q3[i];
        }
        return (s0, s1, s2, s3);
    }

    /// <summary>Gives back arrays from <see cref="BatchLast"/>.</summary>
    public static void Return(params float[][] arrays)
    {
        foreach (var a in arrays) ArrayPool<float>.Shared.Return(a);
    }

    /// <summary>Writes dW (rows × columns, row-major) at the mask's kept positions; the others are set to zero.</summary>
    public static void Masked(ParameterMask mask, float[] p, float[] q, int m, float alpha, Memory<float> dw, int threads)
    {
        if (dw.Length != mask.Length) throw new ArgumentException($"The weight gradient has {dw.Length} elements, the mask {mask.Rows}x{mask.Columns}.");
        dw.Span.Clear();
        var columns = mask.Columns;
        void Rows(int first, int end)
        {
            var target = dw.Span;
            for (var r = first; r < end; r++)
            {
                ReadOnlySpan<float> pr = p.AsSpan(r * m, m);
                var kept = mask.KeptColumns.AsSpan(mask.RowStarts[r], mask.RowStarts[r + 1] - mask.RowStarts[r]);
                var row = target.Slice(r * columns, columns);
                var at = 0;
                // Four kept columns at a time share each load of the row of P.
                if (Vector512.IsHardwareAccelerated && Sse3.IsSupported && m % Vector512<float>.Count == 0)
                    fixed (float* pp = pr)
                    fixed (float* qq = q)
                    fixed (int* kk = kept)
                    fixed (float* rr = row)
                        at = Masked4(pp, qq, m, kk, kept.Length, rr, alpha);
                for (; at + 4 <= kept.Length; at += 4)
                {
                    var (d0, d1, d2, d3) = Dot4(pr, q.AsSpan(kept[at] * m, m), q.AsSpan(kept[at + 1] * m, m), q.AsSpan(kept[at + 2] * m, m), q.AsSpan(kept[at + 3] * m, m));
                    row[kept[at]] = alpha * d0;
                    row[kept[at + 1]] = alpha * d1;
                    row[kept[at + 2]] = alpha * d2;
                    row[kept[at + 3]] = alpha * d3;
                }
                for (; at < kept.Length; at++) row[kept[at]] = alpha * TensorPrimitives.Dot(pr, q.AsSpan(kept[at] * m, m));
            }
        }
        if (threads <= 1 || mask.Rows < 2 * threads) Rows(0, mask.Rows);
        else
        {
            var chunk = (mask.Rows + threads - 1) / threads;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => Rows(t * chunk, Math.Min(mask.Rows, (t + 1) * chunk)));
        }
    }

    /// <summary>dW = α · op(P)ᵀ-style product done by the dense GEMM: dW[r, s] = α Σₘ L[m, r] R[m, s] with L, R stored [M, ·].</summary>
    public static void Dense(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int m, int rows, int columns, float alpha, Span<float> dw, int threads) =>
        Sgemm.Multiply(rows, columns, m, left, rows, true, right, columns, false, dw, columns, alpha, 0f, maxThreads: threads);
}
