using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// One-row product that skips the weights of near-zero inputs (activation sparsity, TEAL-style):
/// y[N] = bias + Σ over inputs p with |x[p]| &gt; threshold of x[p] · W[p, :]. The weight is the ONNX MatMul
/// layout [K, N] row-major, which is column-major for the math view W[out, in]: each kept input adds one
/// contiguous column of N floats, so the work and the weight bytes read fall with the fraction of inputs
/// below the threshold. Inputs at or under the threshold are treated as zero (that is the sparsification).
/// </summary>
public static unsafe class SparseInputGemv
{
    /// <summary>
    /// y = bias + Σ_{|x[p]| &gt; threshold} x[p] · weight[p, :], then <paramref name="activation"/>. Returns the
    /// number of inputs that were kept. <paramref name="weight"/> is [x.Length, y.Length] row-major; an empty
    /// <paramref name="bias"/> means none. Single-threaded: it is meant for token-by-token decoding.
    /// </summary>
    public static int Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, ReadOnlySpan<float> bias,
        float threshold, FusedActivation activation = FusedActivation.None) =>
        Multiply(x, weight, y, bias, threshold, activation, vectorWidth: 0);

    /// <summary>As the public overload, with the vector width forced (16, 8, 4 or 1 floats; 0 = the widest the CPU runs) so tests reach every path.</summary>
    internal static int Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, ReadOnlySpan<float> bias,
        float threshold, FusedActivation activation, int vectorWidth)
    {
        int k = x.Length, n = y.Length;
        if (weight.Length < (long)k * n)
            throw new ArgumentException($"The weight has {weight.Length} elements; [{k}, {n}] needs {(long)k * n}.", nameof(weight));
        if (!bias.IsEmpty && bias.Length != n)
            throw new ArgumentException($"The bias has {bias.Length} elements; it needs {n}.", nameof(bias));
        if (threshold < 0 || float.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), "The threshold must be 0 or more.");
        if (bias.IsEmpty) y.Clear(); else bias.CopyTo(y);
        if (n == 0) return 0;

        // Gather the kept inputs first, so that the accumulation below can take them four at a time
        // (one load and store of y per four columns instead of per column).
        int[]? rentedIndex = null;
        float[]? rentedValue = null;
        var index = k <= 1024 ? stackalloc int[k] : (rentedIndex = ArrayPool<int>.Shared.Rent(k)).AsSpan(0, k);
        var value = k <= 1024 ? stackalloc float[k] : (rentedValue = ArrayPool<float>.Shared.Rent(k)).AsSpan(0, k);
        try
        {
            var kept = 0;
            for (var p = 0; p < k; p++)
            {
                var v = x[p];
                if (MathF.Abs(v) > threshold)
                {
                    index[kept] = p;
                    value[kept++] = v;
                }
            }
            if (kept > 0)
            {
                fixed (float* w = weight)
                fixed (float* py = y)
                fixed (int* pi = index)
                fixed (float* pv = value)
                {
                    var auto = vectorWidth == 0;
                    if (Vector512.IsHardwareAccelerated && (auto ? n >= 16 : vectorWidth == 16)) Accumulate<Vector512Ops, Vector512<float>>(w, n, pi, pv, kept, py);
                    else if (Vector256.IsHardwareAccelerated && (auto ? n >= 8 : vectorWidth == 8)) Accumulate<Vector256Ops, Vector256<float>>(w, n, pi, pv, kept, py);
                    else if (Vector128.IsHardwareAccelerated && (auto ? n >= 4 : vectorWidth == 4)) Accumulate<Vector128Ops, Vector128<float>>(w, n, pi, pv, kept, py);
                    else Accumulate<ScalarOps, float>(w, n, pi, pv, kept, py);
                }
            }
            Activations.Apply(y, activation);
            return kept;
        }
        finally
        {
            if (rentedIndex is not null) ArrayPool<int>.Shared.Return(rentedIndex);
            if (rentedValue is not null) ArrayPool<float>.Shared.Return(rentedValue);
        }
    }

    /// <summary>The plain loop the kernel must match: every input compared with the threshold, one column at a time.</summary>
    internal static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, ReadOnlySpan<float> bias, float threshold)
    {
        int k = x.Length, n = y.Length;
        for (var j = 0; j < n; j++) y[j] = bias.IsEmpty ? 0f : bias[j];
        for (var p = 0; p < k; p++)
        {
            if (!(MathF.Abs(x[p]) > threshold)) continue;
            for (var j = 0; j < n; j++) y[j] += x[p] * weight[p * n + j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate<TOps, TVector>(float* w, int n, int* index, float* value, int kept, float* y)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        var q = 0;
        for (; q + 4 <= kept; q += 4)
        {
            float* c0 = w + (long)index[q] * n, c1 = w + (long)index[q + 1] * n, c2 = w + (long)index[q + 2] * n, c3 = w + (long)index[q + 3] * n;
            float v0 = value[q], v1 = value[q + 1], v2 = value[q + 2], v3 = value[q + 3];
            TVector b0 = TOps.Broadcast(v0), b1 = TOps.Broadcast(v1), b2 = TOps.Broadcast(v2), b3 = TOps.Broadcast(v3);
            var j = 0;
            for (; j + width <= n; j += width)
            {
                var acc = TOps.Load(y + j);
                acc = TOps.MultiplyAdd(b0, TOps.Load(c0 + j), acc);
                acc = TOps.MultiplyAdd(b1, TOps.Load(c1 + j), acc);
                acc = TOps.MultiplyAdd(b2, TOps.Load(c2 + j), acc);
                acc = TOps.MultiplyAdd(b3, TOps.Load(c3 + j), acc);
                TOps.Store(y + j, acc);
            }
            for (; j < n; j++)
                y[j] = MathF.FusedMultiplyAdd(v3, c3[j], MathF.FusedMultiplyAdd(v2, c2[j], MathF.FusedMultiplyAdd(v1, c1[j], MathF.FusedMultiplyAdd(v0, c0[j], y[j]))));
        }
        for (; q < kept; q++)
        {
            var c = w + (long)index[q] * n;
            var v = value[q];
            var b = TOps.Broadcast(v);
            var j = 0;
            for (; j + width <= n; j += width) TOps.Store(y + j, TOps.MultiplyAdd(b, TOps.Load(c + j), TOps.Load(y + j)));
            for (; j < n; j++) y[j] = MathF.FusedMultiplyAdd(v, c[j], y[j]);
        }
    }
}
