using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// One-row product that skips the weights of near-zero inputs (activation sparsity, TEAL-style):
/// y[N] = bias + Σ over inputs p with |x[p]| &gt; threshold of x[p] · W[p, :]. The weight is the ONNX MatMul
/// layout [K, N] row-major, which is column-major for the math view W[out, in]: each kept input adds one
/// contiguous column of N floats, so the work and the weight bytes read fall with the fraction of inputs
/// below the threshold. Inputs at or under the threshold are treated as zero (that is the sparsification).
/// The fast form takes the weight packed once (<see cref="SparseInputWeight"/>: aligned panels of two vectors);
/// the span form reads the [K, N] layout as it is.
/// </summary>
public static unsafe class SparseInputGemv
{
    /// <summary>
    /// y = bias + Σ_{|x[p]| &gt; threshold} x[p] · W[p, :], then <paramref name="activation"/>, with W packed by
    /// <see cref="SparseInputWeight.Pack(ReadOnlySpan{float}, int, int)"/>. Returns the number of inputs that were kept.
    /// <paramref name="x"/> has <see cref="SparseInputWeight.Inputs"/> elements, <paramref name="y"/>
    /// <see cref="SparseInputWeight.Outputs"/>; an empty <paramref name="bias"/> means none. Single-threaded: it is
    /// meant for token-by-token decoding.
    /// </summary>
    [SkipLocalsInit]
    public static int Multiply(ReadOnlySpan<float> x, SparseInputWeight weight, Span<float> y, ReadOnlySpan<float> bias,
        float threshold, FusedActivation activation = FusedActivation.None)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int k = weight.Inputs, n = weight.Outputs;
        if (x.Length != k) throw new ArgumentException($"x has {x.Length} elements; the weight takes {k} inputs.", nameof(x));
        if (y.Length != n) throw new ArgumentException($"y has {y.Length} elements; the weight has {n} outputs.", nameof(y));
        if (!bias.IsEmpty && bias.Length != n)
            throw new ArgumentException($"The bias has {bias.Length} elements; it needs {n}.", nameof(bias));
        if (threshold < 0 || float.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), "The threshold must be 0 or more.");
        if (n == 0) return 0;
        int kept;
        // The gather stores a whole vector past the last kept input, hence 16 spare entries.
        if (k <= 1024)
        {
            kept = RunPacked(x, weight, y, bias, threshold, stackalloc int[k + 16], stackalloc float[k + 16]);
        }
        else
        {
            var offsets = ArrayPool<int>.Shared.Rent(k + 16);
            var values = ArrayPool<float>.Shared.Rent(k + 16);
            try
            {
                kept = RunPacked(x, weight, y, bias, threshold, offsets, values);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(offsets);
                ArrayPool<float>.Shared.Return(values);
            }
        }
        Activations.Apply(y, activation);
        return kept;
    }

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

    // ---- The packed form: aligned panels of two vectors ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RunPacked(ReadOnlySpan<float> x, SparseInputWeight weight, Span<float> y, ReadOnlySpan<float> bias, float threshold,
        Span<int> offsets, Span<float> values)
    {
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        fixed (int* po = offsets)
        fixed (float* pv = values)
        {
            var panelWidth = weight.PanelWidth;
            // A kept input p reads row p of each panel: offset p · panelWidth.
            var kept = GatherOffsets(px, x.Length, threshold, panelWidth, po, pv, weight.VectorWidth);
            var b = bias.IsEmpty ? null : pb;
            switch (weight.VectorWidth)
            {
                case 16:
                    Panels<Vector512Ops, Vector512<float>>(weight.Data, weight.Inputs, weight.Outputs, po, pv, kept, b, py);
                    break;
                case 8:
                    Panels<Vector256Ops, Vector256<float>>(weight.Data, weight.Inputs, weight.Outputs, po, pv, kept, b, py);
                    break;
                case 4:
                    Panels<Vector128Ops, Vector128<float>>(weight.Data, weight.Inputs, weight.Outputs, po, pv, kept, b, py);
                    break;
                default:
                    Panels<ScalarOps, float>(weight.Data, weight.Inputs, weight.Outputs, po, pv, kept, b, py);
                    break;
            }
            // weight.Data is a raw pointer into the weight's pinned array: keep the owner alive until the reads are done.
            GC.KeepAlive(weight);
            return kept;
        }
    }

    /// <summary>
    /// The kept inputs as (offset = position · <paramref name="stride"/>, value) pairs, in order. With AVX-512 (vector
    /// width 16) sixteen inputs are compared at once and the kept ones compressed into place, no branch per input;
    /// at width 8 eight are compared and the set bits of the mask visited; otherwise one at a time. Writes up to 16
    /// entries past the last kept one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int GatherOffsets(float* x, int k, float threshold, int stride, int* offsets, float* values, int vectorWidth)
    {
        var kept = 0;
        var p = 0;
        if (vectorWidth == 16 && Avx512F.IsSupported)
        {
            var limit = Vector512.Create(threshold);
            var offset = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * stride;
            var step = Vector512.Create(16 * stride);
            for (; p + 16 <= k; p += 16)
            {
                var v = Vector512.Load(x + p);
                var mask = Vector512.GreaterThan(Vector512.Abs(v), limit);
                Avx512F.Compress(Vector512<float>.Zero, mask, v).Store(values + kept);
                Avx512F.Compress(Vector512<int>.Zero, mask.AsInt32(), offset).Store(offsets + kept);
                kept += BitOperations.PopCount(mask.ExtractMostSignificantBits());
                offset += step;
            }
        }
        else if (vectorWidth >= 8 && Vector256.IsHardwareAccelerated)
        {
            var limit = Vector256.Create(threshold);
            for (; p + 8 <= k; p += 8)
            {
                var v = Vector256.Load(x + p);
                var mask = Vector256.GreaterThan(Vector256.Abs(v), limit).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    var bit = BitOperations.TrailingZeroCount(mask);
                    offsets[kept] = (p + bit) * stride;
                    values[kept++] = x[p + bit];
                    mask &= mask - 1;
                }
            }
        }
        for (; p < k; p++)
        {
            var v = x[p];
            if (MathF.Abs(v) > threshold)
            {
                offsets[kept] = p * stride;
                values[kept++] = v;
            }
        }
        return kept;
    }

    /// <summary>
    /// y[panel] = bias + Σ_q value[q] · panel row offset[q], panel by panel (with 32 vector registers, whole pairs of
    /// panels first: <see cref="PanelPairs"/>). A panel's two output vectors stay in
    /// registers over all kept inputs. With 32 vector registers (AVX-512) eight kept inputs run at once into eight
    /// independent pairs of accumulators (sixteen FMA chains, and eight rows' loads in flight, which is what keeps
    /// the reads from L2 streaming when inputs are skipped), otherwise four; then one at a time. The kept list is
    /// walked by pointer, so each input costs one offset load and one broadcast.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panels<TOps, TVector>(float* w, int k, int n, int* offsets, float* values, int kept, float* bias, float* y)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var tile = stackalloc float[2 * 16]; // the last panel, when it is partial
        var width = TOps.Count;
        var panelWidth = 2 * width;
        var end = offsets + kept;
        var j0 = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            j0 = PanelPairs<TOps, TVector>(w, k, n, offsets, values, kept, bias, y);
            w += (nint)k * j0;
        }
        for (; j0 < n; j0 += panelWidth, w += (nint)k * panelWidth)
        {
            TVector a0 = TOps.Zero, a1 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero;
            TVector c0 = TOps.Zero, c1 = TOps.Zero, d0 = TOps.Zero, d1 = TOps.Zero;
            var po = offsets;
            var pv = values;
            if (Vector512.IsHardwareAccelerated)
            {
                TVector e0 = TOps.Zero, e1 = TOps.Zero, f0 = TOps.Zero, f1 = TOps.Zero;
                TVector g0 = TOps.Zero, g1 = TOps.Zero, h0 = TOps.Zero, h1 = TOps.Zero;
                for (; po + 8 <= end; po += 8, pv += 8)
                {
                    float* r0 = w + po[0], r1 = w + po[1], r2 = w + po[2], r3 = w + po[3];
                    float* r4 = w + po[4], r5 = w + po[5], r6 = w + po[6], r7 = w + po[7];
                    var v0 = TOps.Broadcast(pv[0]);
                    var v1 = TOps.Broadcast(pv[1]);
                    var v2 = TOps.Broadcast(pv[2]);
                    var v3 = TOps.Broadcast(pv[3]);
                    var v4 = TOps.Broadcast(pv[4]);
                    var v5 = TOps.Broadcast(pv[5]);
                    var v6 = TOps.Broadcast(pv[6]);
                    var v7 = TOps.Broadcast(pv[7]);
                    a0 = TOps.MultiplyAdd(v0, TOps.Load(r0), a0);
                    a1 = TOps.MultiplyAdd(v0, TOps.Load(r0 + width), a1);
                    b0 = TOps.MultiplyAdd(v1, TOps.Load(r1), b0);
                    b1 = TOps.MultiplyAdd(v1, TOps.Load(r1 + width), b1);
                    c0 = TOps.MultiplyAdd(v2, TOps.Load(r2), c0);
                    c1 = TOps.MultiplyAdd(v2, TOps.Load(r2 + width), c1);
                    d0 = TOps.MultiplyAdd(v3, TOps.Load(r3), d0);
                    d1 = TOps.MultiplyAdd(v3, TOps.Load(r3 + width), d1);
                    e0 = TOps.MultiplyAdd(v4, TOps.Load(r4), e0);
                    e1 = TOps.MultiplyAdd(v4, TOps.Load(r4 + width), e1);
                    f0 = TOps.MultiplyAdd(v5, TOps.Load(r5), f0);
                    f1 = TOps.MultiplyAdd(v5, TOps.Load(r5 + width), f1);
                    g0 = TOps.MultiplyAdd(v6, TOps.Load(r6), g0);
                    g1 = TOps.MultiplyAdd(v6, TOps.Load(r6 + width), g1);
                    h0 = TOps.MultiplyAdd(v7, TOps.Load(r7), h0);
                    h1 = TOps.MultiplyAdd(v7, TOps.Load(r7 + width), h1);
                }
                a0 = TOps.Add(a0, e0); a1 = TOps.Add(a1, e1); b0 = TOps.Add(b0, f0); b1 = TOps.Add(b1, f1);
                c0 = TOps.Add(c0, g0); c1 = TOps.Add(c1, g1); d0 = TOps.Add(d0, h0); d1 = TOps.Add(d1, h1);
            }
            for (; po + 4 <= end; po += 4, pv += 4)
            {
                float* r0 = w + po[0], r1 = w + po[1], r2 = w + po[2], r3 = w + po[3];
                var v0 = TOps.Broadcast(pv[0]);
                var v1 = TOps.Broadcast(pv[1]);
                var v2 = TOps.Broadcast(pv[2]);
                var v3 = TOps.Broadcast(pv[3]);
                a0 = TOps.MultiplyAdd(v0, TOps.Load(r0), a0);
                a1 = TOps.MultiplyAdd(v0, TOps.Load(r0 + width), a1);
                b0 = TOps.MultiplyAdd(v1, TOps.Load(r1), b0);
                b1 = TOps.MultiplyAdd(v1, TOps.Load(r1 + width), b1);
                c0 = TOps.MultiplyAdd(v2, TOps.Load(r2), c0);
                c1 = TOps.MultiplyAdd(v2, TOps.Load(r2 + width), c1);
                d0 = TOps.MultiplyAdd(v3, TOps.Load(r3), d0);
                d1 = TOps.MultiplyAdd(v3, TOps.Load(r3 + width), d1);
            }
            for (; po < end; po++, pv++)
            {
                var r0 = w + po[0];
                var v0 = TOps.Broadcast(pv[0]);
                a0 = TOps.MultiplyAdd(v0, TOps.Load(r0), a0);
                a1 = TOps.MultiplyAdd(v0, TOps.Load(r0 + width), a1);
            }
            a0 = TOps.Add(TOps.Add(a0, b0), TOps.Add(c0, d0));
            a1 = TOps.Add(TOps.Add(a1, b1), TOps.Add(c1, d1));
            if (j0 + panelWidth <= n)
            {
                if (bias != null)
                {
                    a0 = TOps.Add(a0, TOps.Load(bias + j0));
                    a1 = TOps.Add(a1, TOps.Load(bias + j0 + width));
                }
                TOps.Store(y + j0, a0);
                TOps.Store(y + j0 + width, a1);
            }
            else
            {
                // The last, partial panel: the padding columns were summed too (zeros); copy out only the real ones.
                TOps.Store(tile, a0);
                TOps.Store(tile + width, a1);
                for (var j = 0; j < n - j0; j++) y[j0 + j] = bias != null ? tile[j] + bias[j0 + j] : tile[j];
            }
        }
    }

    /// <summary>
    /// Two whole panels at a time (four output vectors), four kept inputs per step: sixteen accumulators, and eight
    /// reads in flight from two separate streams; each kept input's offset and broadcast then serve twice the
    /// outputs. Only with 32 vector registers. Returns the first output column it did not compute.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PanelPairs<TOps, TVector>(float* w, int k, int n, int* offsets, float* values, int kept, float* bias, float* y)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        var panelWidth = 2 * width;
        var panelStride = (nint)k * panelWidth;
        var end = offsets + kept;
        var j0 = 0;
        for (; j0 + 2 * panelWidth <= n; j0 += 2 * panelWidth, w += 2 * panelStride)
        {
            var u = w + panelStride;
            TVector a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            TVector b0 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero, b3 = TOps.Zero;
            TVector c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
            TVector d0 = TOps.Zero, d1 = TOps.Zero, d2 = TOps.Zero, d3 = TOps.Zero;
            var po = offsets;
            var pv = values;
            for (; po + 4 <= end; po += 4, pv += 4)
            {
                nint o0 = po[0], o1 = po[1], o2 = po[2], o3 = po[3];
                var v0 = TOps.Broadcast(pv[0]);
                var v1 = TOps.Broadcast(pv[1]);
                var v2 = TOps.Broadcast(pv[2]);
                var v3 = TOps.Broadcast(pv[3]);
                a0 = TOps.MultiplyAdd(v0, TOps.Load(w + o0), a0);
                a1 = TOps.MultiplyAdd(v0, TOps.Load(w + o0 + width), a1);
                a2 = TOps.MultiplyAdd(v0, TOps.Load(u + o0), a2);
                a3 = TOps.MultiplyAdd(v0, TOps.Load(u + o0 + width), a3);
                b0 = TOps.MultiplyAdd(v1, TOps.Load(w + o1), b0);
                b1 = TOps.MultiplyAdd(v1, TOps.Load(w + o1 + width), b1);
                b2 = TOps.MultiplyAdd(v1, TOps.Load(u + o1), b2);
                b3 = TOps.MultiplyAdd(v1, TOps.Load(u + o1 + width), b3);
                c0 = TOps.MultiplyAdd(v2, TOps.Load(w + o2), c0);
                c1 = TOps.MultiplyAdd(v2, TOps.Load(w + o2 + width), c1);
                c2 = TOps.MultiplyAdd(v2, TOps.Load(u + o2), c2);
                c3 = TOps.MultiplyAdd(v2, TOps.Load(u + o2 + width), c3);
                d0 = TOps.MultiplyAdd(v3, TOps.Load(w + o3), d0);
                d1 = TOps.MultiplyAdd(v3, TOps.Load(w + o3 + width), d1);
                d2 = TOps.MultiplyAdd(v3, TOps.Load(u + o3), d2);
                d3 = TOps.MultiplyAdd(v3, TOps.Load(u + o3 + width), d3);
            }
            for (; po < end; po++, pv++)
            {
                nint o0 = po[0];
                var v0 = TOps.Broadcast(pv[0]);
                a0 = TOps.MultiplyAdd(v0, TOps.Load(w + o0), a0);
                a1 = TOps.MultiplyAdd(v0, TOps.Load(w + o0 + width), a1);
                a2 = TOps.MultiplyAdd(v0, TOps.Load(u + o0), a2);
                a3 = TOps.MultiplyAdd(v0, TOps.Load(u + o0 + width), a3);
            }
            a0 = TOps.Add(TOps.Add(a0, b0), TOps.Add(c0, d0));
            a1 = TOps.Add(TOps.Add(a1, b1), TOps.Add(c1, d1));
            a2 = TOps.Add(TOps.Add(a2, b2), TOps.Add(c2, d2));
            a3 = TOps.Add(TOps.Add(a3, b3), TOps.Add(c3, d3));
            if (bias != null)
            {
                a0 = TOps.Add(a0, TOps.Load(bias + j0));
                a1 = TOps.Add(a1, TOps.Load(bias + j0 + width));
                a2 = TOps.Add(a2, TOps.Load(bias + j0 + 2 * width));
                a3 = TOps.Add(a3, TOps.Load(bias + j0 + 3 * width));
            }
            TOps.Store(y + j0, a0);
            TOps.Store(y + j0 + width, a1);
            TOps.Store(y + j0 + 2 * width, a2);
            TOps.Store(y + j0 + 3 * width, a3);
        }
        return j0;
    }
}
