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
    [SkipLocalsInit]
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

        // Gather the kept inputs first, so that the accumulation below streams only their columns.
        int kept;
        if (k <= 1024)
        {
            kept = GatherAndAccumulate(x, weight, y, threshold, vectorWidth, stackalloc int[k], stackalloc float[k]);
        }
        else
        {
            var index = ArrayPool<int>.Shared.Rent(k);
            var value = ArrayPool<float>.Shared.Rent(k);
            try
            {
                kept = GatherAndAccumulate(x, weight, y, threshold, vectorWidth, index, value);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(index);
                ArrayPool<float>.Shared.Return(value);
            }
        }
        Activations.Apply(y, activation);
        return kept;
    }

    // Fully optimised from the first call, like the accumulation: decoding calls this per token and layer, and a
    // tier-0 copy (until the tiered JIT catches up) runs several times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int GatherAndAccumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float threshold, int vectorWidth,
        Span<int> index, Span<float> value)
    {
        var n = y.Length;
        var kept = Gather(x, threshold, index, value);
        if (kept == 0) return 0;
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
        return kept;
    }

    /// <summary>
    /// The kept inputs' positions and values, in order. Eight inputs are compared at once; only the set bits of
    /// the comparison mask are visited, so the cost follows the kept count, with no branch per input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Gather(ReadOnlySpan<float> x, float threshold, Span<int> index, Span<float> value)
    {
        var k = x.Length;
        var kept = 0;
        var p = 0;
        fixed (float* px = x)
        fixed (int* pi = index)
        fixed (float* pv = value)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                var limit = Vector256.Create(threshold);
                for (; p + 8 <= k; p += 8)
                {
                    var v = Vector256.Load(px + p);
                    var mask = Vector256.GreaterThan(Vector256.Abs(v), limit).ExtractMostSignificantBits();
                    while (mask != 0)
                    {
                        var bit = System.Numerics.BitOperations.TrailingZeroCount(mask);
                        pi[kept] = p + bit;
                        pv[kept++] = px[p + bit];
                        mask &= mask - 1;
                    }
                }
            }
            for (; p < k; p++)
            {
                var v = px[p];
                if (MathF.Abs(v) > threshold)
                {
                    pi[kept] = p;
                    pv[kept++] = v;
                }
            }
        }
        return kept;
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

    /// <summary>
    /// y += Σ_q value[q] · W[index[q], :]. Blocked over the outputs so that the sums stay in registers: eight
    /// vectors of y at a time (enough independent FMA chains to hide their latency), each kept input adding one
    /// broadcast times eight loads of its column; then four, one, and a scalar tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate<TOps, TVector>(float* w, int n, int* index, float* value, int kept, float* y)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        var j = 0;
        for (; j + 8 * width <= n; j += 8 * width)
        {
            var y0 = y + j;
            TVector a0 = TOps.Load(y0), a1 = TOps.Load(y0 + width), a2 = TOps.Load(y0 + 2 * width), a3 = TOps.Load(y0 + 3 * width);
            TVector a4 = TOps.Load(y0 + 4 * width), a5 = TOps.Load(y0 + 5 * width), a6 = TOps.Load(y0 + 6 * width), a7 = TOps.Load(y0 + 7 * width);
            for (var q = 0; q < kept; q++)
            {
                var c = w + (long)index[q] * n + j;
                var b = TOps.Broadcast(value[q]);
                a0 = TOps.MultiplyAdd(b, TOps.Load(c), a0);
                a1 = TOps.MultiplyAdd(b, TOps.Load(c + width), a1);
                a2 = TOps.MultiplyAdd(b, TOps.Load(c + 2 * width), a2);
                a3 = TOps.MultiplyAdd(b, TOps.Load(c + 3 * width), a3);
                a4 = TOps.MultiplyAdd(b, TOps.Load(c + 4 * width), a4);
                a5 = TOps.MultiplyAdd(b, TOps.Load(c + 5 * width), a5);
                a6 = TOps.MultiplyAdd(b, TOps.Load(c + 6 * width), a6);
                a7 = TOps.MultiplyAdd(b, TOps.Load(c + 7 * width), a7);
            }
            TOps.Store(y0, a0); TOps.Store(y0 + width, a1); TOps.Store(y0 + 2 * width, a2); TOps.Store(y0 + 3 * width, a3);
            TOps.Store(y0 + 4 * width, a4); TOps.Store(y0 + 5 * width, a5); TOps.Store(y0 + 6 * width, a6); TOps.Store(y0 + 7 * width, a7);
        }
        for (; j + 4 * width <= n; j += 4 * width)
        {
            var y0 = y + j;
            TVector a0 = TOps.Load(y0), a1 = TOps.Load(y0 + width), a2 = TOps.Load(y0 + 2 * width), a3 = TOps.Load(y0 + 3 * width);
            for (var q = 0; q < kept; q++)
            {
                var c = w + (long)index[q] * n + j;
                var b = TOps.Broadcast(value[q]);
                a0 = TOps.MultiplyAdd(b, TOps.Load(c), a0);
                a1 = TOps.MultiplyAdd(b, TOps.Load(c + width), a1);
                a2 = TOps.MultiplyAdd(b, TOps.Load(c + 2 * width), a2);
                a3 = TOps.MultiplyAdd(b, TOps.Load(c + 3 * width), a3);
            }
            TOps.Store(y0, a0); TOps.Store(y0 + width, a1); TOps.Store(y0 + 2 * width, a2); TOps.Store(y0 + 3 * width, a3);
        }
        for (; j + width <= n; j += width)
        {
            var a = TOps.Load(y + j);
            for (var q = 0; q < kept; q++) a = TOps.MultiplyAdd(TOps.Broadcast(value[q]), TOps.Load(w + (long)index[q] * n + j), a);
            TOps.Store(y + j, a);
        }
        for (; j < n; j++)
        {
            var a = y[j];
            for (var q = 0; q < kept; q++) a = MathF.FusedMultiplyAdd(value[q], w[(long)index[q] * n + j], a);
            y[j] = a;
        }
    }
}
