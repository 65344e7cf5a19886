using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>Kernels and helpers shared by the N:M and bitmask formats.</summary>
internal static unsafe class SparseRowKernels
{
    /// <summary>The widest vector width (bits) to use (this machine, within the tests' limit); 0 means scalar.</summary>
    public static int BestVectorBits => CsrKernelSupport.Width() is var bits && bits == 1 ? 0 : bits;

    public static void CheckArguments(ISparseRowSource w, ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, int vectorBits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (x.Length < (long)m * w.Columns)
            throw new ArgumentException($"x has {x.Length} values; {m}x{w.Columns} needs {(long)m * w.Columns}.", nameof(x));
        if (y.Length < (long)m * w.Rows)
            throw new ArgumentException($"y has {y.Length} values; {m}x{w.Rows} needs {(long)m * w.Rows}.", nameof(y));
        if (!bias.IsEmpty && bias.Length != w.Rows)
            throw new ArgumentException($"bias has {bias.Length} values; expected 0 or {w.Rows}.", nameof(bias));
        if (vectorBits is not (0 or 128 or 256 or 512))
            throw new ArgumentOutOfRangeException(nameof(vectorBits), "vector width must be 0, 128, 256 or 512 bits.");
    }

    /// <summary>Splits rows [0, Rows) into at most <paramref name="threads"/> ranges of about equal cost and runs <paramref name="work"/> on each.</summary>
    public static void RunOverRows(ISparseRowSource w, int m, int threads, Action<int, int> work)
    {
        var rows = w.Rows;
        if (rows == 0) return;
        long total = 0;
        for (var r = 0; r < rows; r++) total += w.RowCost(r);
        // Tiny products are not worth waking threads for.
        var useful = (int)Math.Clamp(total * Math.Max(m, 1) / 16384, 1, int.MaxValue);
        threads = Math.Min(Math.Min(threads, rows), useful);
        if (threads <= 1)
        {
            work(0, rows);
            return;
        }
        var bounds = new int[threads + 1];
        long running = 0;
        var next = 1;
        for (var r = 0; r < rows && next < threads; r++)
        {
            running += w.RowCost(r);
            while (next < threads && running * threads >= total * next) bounds[next++] = r + 1;
        }
        for (; next <= threads; next++) bounds[next] = rows;
        GemmParallel.For(threads, threads, t =>
        {
            if (bounds[t + 1] > bounds[t]) work(bounds[t], bounds[t + 1]);
        });
    }

    /// <summary>Adds the bias to y[i, r0..r1) for every row i of X and applies the activation there.</summary>
    public static void Finish<TOps, TVector>(float* y, int m, int rows, int r0, int r1, float* bias, FusedActivation activation)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        if (activation == FusedActivation.None) return;
        for (var i = 0; i < m; i++) Activations.Apply<TOps, TVector>(y + (long)i * rows + r0, r1 - r0, activation);
    }

    /// <summary>
    /// Y = X·Wᵀ + b for several rows of X: X is transposed once so that each kept weight, broadcast to a vector, is
    /// multiplied with the values of one input column for a whole block of X rows (work proportional to the kept weights).
    /// </summary>
    public static void MultiplyMany(ISparseRowSource w, ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias,
        FusedActivation activation, int threads, int vectorBits)
    {
        if (m == 0 || w.Rows == 0) return;
        // A vector no wider than the X rows it carries: lanes past m are wasted work.
        var bits = vectorBits == 0 ? 0 : Math.Min(vectorBits, m <= 4 ? 128 : m <= 8 ? 256 : 512);
        switch (bits)
        {
            case 512: MultiplyMany<Vector512Ops, Vector512<float>>(w, x, m, y, bias, activation, threads); break;
            case 256: MultiplyMany<Vector256Ops, Vector256<float>>(w, x, m, y, bias, activation, threads); break;
            case 128: MultiplyMany<Vector128Ops, Vector128<float>>(w, x, m, y, bias, activation, threads); break;
            default: MultiplyMany<ScalarOps, float>(w, x, m, y, bias, activation, threads); break;
        }
    }

    private static void MultiplyMany<TOps, TVector>(ISparseRowSource w, ReadOnlySpan<float> x, int m, Span<float> y,
        ReadOnlySpan<float> bias, FusedActivation activation, int threads)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        int columns = w.Columns, rows = w.Rows, width = TOps.Count;
        var padded = (m + width - 1) / width * width;
        // xt[c, i] = x[i, c], rows of X padded with zeros to whole vectors.
        var xt = GC.AllocateUninitializedArray<float>(Math.Max(1, columns * padded));
        for (var c = 0; c < columns; c++)
        {
            var row = xt.AsSpan(c * padded, padded);
            for (var i = 0; i < m; i++) row[i] = x[i * columns + c];
            row[m..].Clear();
        }
        fixed (float* px = xt)
        fixed (float* py = y)
        fixed (float* pb = bias)
        {
            nint xAddress = (nint)px, yAddress = (nint)py, biasAddress = (nint)pb;
            var hasBias = !bias.IsEmpty;
            RunOverRows(w, m, threads, (r0, r1) =>
                MultiplyManyRange<TOps, TVector>(w, (float*)xAddress, padded, m, (float*)yAddress,
                    hasBias ? (float*)biasAddress : null, activation, r0, r1));
        }
        GC.KeepAlive(xt);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyManyRange<TOps, TVector>(ISparseRowSource w, float* xt, int padded, int m, float* y, float* bias,
        FusedActivation activation, int r0, int r1)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        int rows = w.Rows, width = TOps.Count, capacity = Math.Max(1, w.MaxRowEntries);
        var columnsBuffer = new int[capacity];
        var valuesBuffer = new float[capacity];
        var accumulators = new float[padded];
        fixed (int* cols = columnsBuffer)
        fixed (float* vals = valuesBuffer)
        fixed (float* acc = accumulators)
        {
            for (var r = r0; r < r1; r++)
            {
                var count = w.DecodeRow(r, cols, vals);
                var i0 = 0;
                // Four vectors of X rows at a time; the decoded row stays in L1 while it is replayed for each block.
                for (; i0 + 4 * width <= padded; i0 += 4 * width)
                {
                    TVector a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
                    for (var e = 0; e < count; e++)
                    {
                        var weight = TOps.Broadcast(vals[e]);
                        var p = xt + (long)cols[e] * padded + i0;
                        a0 = TOps.MultiplyAdd(weight, TOps.Load(p), a0);
                        a1 = TOps.MultiplyAdd(weight, TOps.Load(p + width), a1);
                        a2 = TOps.MultiplyAdd(weight, TOps.Load(p + 2 * width), a2);
                        a3 = TOps.MultiplyAdd(weight, TOps.Load(p + 3 * width), a3);
                    }
                    TOps.Store(acc + i0, a0);
                    TOps.Store(acc + i0 + width, a1);
                    TOps.Store(acc + i0 + 2 * width, a2);
                    TOps.Store(acc + i0 + 3 * width, a3);
                }
                // Fewer X rows than four vectors: split the entries over independent accumulators so that
                // consecutive multiply-adds do not wait on each other's latency.
                for (; i0 + 2 * width <= padded; i0 += 2 * width)
                {
                    TVector a0 = TOps.Zero, a1 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero;
                    var e = 0;
                    for (; e + 2 <= count; e += 2)
                    {
                        var weight = TOps.Broadcast(vals[e]);
                        var p = xt + (long)cols[e] * padded + i0;
                        a0 = TOps.MultiplyAdd(weight, TOps.Load(p), a0);
                        a1 = TOps.MultiplyAdd(weight, TOps.Load(p + width), a1);
                        var weight2 = TOps.Broadcast(vals[e + 1]);
                        var q = xt + (long)cols[e + 1] * padded + i0;
                        b0 = TOps.MultiplyAdd(weight2, TOps.Load(q), b0);
                        b1 = TOps.MultiplyAdd(weight2, TOps.Load(q + width), b1);
                    }
                    for (; e < count; e++)
                    {
                        var weight = TOps.Broadcast(vals[e]);
                        var p = xt + (long)cols[e] * padded + i0;
                        a0 = TOps.MultiplyAdd(weight, TOps.Load(p), a0);
                        a1 = TOps.MultiplyAdd(weight, TOps.Load(p + width), a1);
                    }
                    TOps.Store(acc + i0, TOps.Add(a0, b0));
                    TOps.Store(acc + i0 + width, TOps.Add(a1, b1));
                }
                for (; i0 < padded; i0 += width)
                {
                    TVector a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
                    var e = 0;
                    for (; e + 4 <= count; e += 4)
                    {
                        a0 = TOps.MultiplyAdd(TOps.Broadcast(vals[e]), TOps.Load(xt + (long)cols[e] * padded + i0), a0);
                        a1 = TOps.MultiplyAdd(TOps.Broadcast(vals[e + 1]), TOps.Load(xt + (long)cols[e + 1] * padded + i0), a1);
                        a2 = TOps.MultiplyAdd(TOps.Broadcast(vals[e + 2]), TOps.Load(xt + (long)cols[e + 2] * padded + i0), a2);
                        a3 = TOps.MultiplyAdd(TOps.Broadcast(vals[e + 3]), TOps.Load(xt + (long)cols[e + 3] * padded + i0), a3);
                    }
                    for (; e < count; e++)
                        a0 = TOps.MultiplyAdd(TOps.Broadcast(vals[e]), TOps.Load(xt + (long)cols[e] * padded + i0), a0);
                    TOps.Store(acc + i0, TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)));
                }
                var b = bias == null ? 0f : bias[r];
                for (var i = 0; i < m; i++) y[(long)i * rows + r] = acc[i] + b;
            }
        }
        Finish<TOps, TVector>(y, m, rows, r0, r1, bias, activation);
    }
}
