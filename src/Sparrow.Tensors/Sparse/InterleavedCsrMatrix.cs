using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// CSR with the rows of each group of eight interleaved, for the one-row (matrix-vector) product: entry k of the
/// group's row j sits at <c>groupStart + 8k + j</c>, each row padded to the group's longest with zero weights that
/// point at a zero appended to x. One vector load then brings the weights of eight rows, the eight x values are
/// scalar loads into a vector, and one vector multiply-add serves eight independent row sums: no horizontal sum
/// per row and a quarter of the loads of plain CSR (measured 1.5-1.7x plain CSR's one-row kernel on one thread at
/// 4096x4096, 90%, where padding added 6.5% to the entries). The matrix-matrix kernel walks a row with a stride of
/// eight and skips the padding.
/// </summary>
internal sealed unsafe class InterleavedCsrMatrix : ISparseMatrix
{
    /// <summary>Rows per group: one Vector256 of sums.</summary>
    internal const int GroupRows = 8;

    private readonly float[] _values;
    private readonly int[] _groupPointers;
    private readonly int[] _rowLengths;
    private readonly ushort[]? _columns16;
    private readonly int[]? _columns32;
    private readonly long _kept;

    private InterleavedCsrMatrix(int rows, int columns, float[] values, int[] groupPointers, int[] rowLengths, ushort[]? columns16, int[]? columns32, long kept)
    {
        Rows = rows;
        Columns = columns;
        _values = values;
        _groupPointers = groupPointers;
        _rowLengths = rowLengths;
        _columns16 = columns16;
        _columns32 = columns32;
        _kept = kept;
    }

    public SparseFormat Format => SparseFormat.Csr;

    public string Description => $"CSR, rows interleaved by {GroupRows} ({(_columns16 != null ? 16 : 32)}-bit indices)";

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Stored entries, padding included (<see cref="KeptValues"/> without).</summary>
    public long StoredValues => _values.Length;

    /// <summary>The kept weights, without the padding.</summary>
    public long KeptValues => _kept;

    public long SizeInBytes => (long)_values.Length * sizeof(float) + (long)_groupPointers.Length * sizeof(int) + (long)_rowLengths.Length * sizeof(int)
        + (_columns16 != null ? (long)_columns16.Length * sizeof(ushort) : (long)_columns32!.Length * sizeof(int));

    private int Groups => _groupPointers.Length - 1;

    /// <summary>Builds from dense row-major [rows, columns] values; with a mask, elements whose mask is false are pruned, without one, zeros.</summary>
    public static InterleavedCsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, ReadOnlySpan<bool> mask = default)
    {
        CsrMatrix.CheckDense(dense.Length, rows, columns, mask.Length);
        var groups = (rows + GroupRows - 1) / GroupRows;
        var rowLengths = new int[groups * GroupRows];
        for (var r = 0; r < rows; r++)
        {
            var count = 0;
            for (var c = 0; c < columns; c++) if (CsrMatrix.IsKept(dense, mask, r * columns + c)) count++;
            rowLengths[r] = count;
        }
        var groupPointers = new int[groups + 1];
        var kept = 0L;
        for (var g = 0; g < groups; g++)
        {
            var longest = 0;
            for (var j = 0; j < GroupRows; j++)
            {
                longest = Math.Max(longest, rowLengths[g * GroupRows + j]);
                kept += rowLengths[g * GroupRows + j];
            }
            var next = groupPointers[g] + (long)longest * GroupRows;
            if (next > Array.MaxLength) throw new ArgumentException($"A {rows} x {columns} matrix with {kept}+ kept weights is too large for interleaved CSR.");
            groupPointers[g + 1] = (int)next;
        }
        var total = groupPointers[groups];
        var values = new float[total];
        // Column index 'columns' marks padding: the kernels append a zero to x there. 16-bit indices while that fits.
        var narrow = columns < 65536;
        var columns16 = narrow ? new ushort[total] : null;
        var columns32 = narrow ? null : new int[total];
        if (narrow) columns16.AsSpan().Fill((ushort)columns); else columns32.AsSpan().Fill(columns);
        for (var r = 0; r < rows; r++)
        {
            var position = groupPointers[r / GroupRows] + r % GroupRows;
            for (var c = 0; c < columns; c++)
            {
                var i = r * columns + c;
                if (!CsrMatrix.IsKept(dense, mask, i)) continue;
                values[position] = dense[i];
                if (narrow) columns16![position] = (ushort)c; else columns32![position] = c;
                position += GroupRows;
            }
        }
        return new InterleavedCsrMatrix(rows, columns, values, groupPointers, rowLengths, columns16, columns32, kept);
    }

    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
        {
            var position = _groupPointers[r / GroupRows] + r % GroupRows;
            for (var k = 0; k < _rowLengths[r]; k++, position += GroupRows)
                dense[(long)r * Columns + (_columns16 != null ? _columns16[position] : _columns32![position])] = _values[position];
        }
        return dense;
    }

    /// <summary>x with a zero appended (what padding entries read), per calling thread.</summary>
    [ThreadStatic] private static float[]? t_paddedX;

    public void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads)
    {
        CsrKernelSupport.CheckMultiply(this, x.Length, m, y.Length, bias.Length);
        if (m == 0 || Rows == 0) return;
        if (Columns == 0)
        {
            CsrKernelSupport.WriteBiasOnly(y, m, Rows, bias, activation);
            return;
        }
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        {
            var b = bias.IsEmpty ? null : pb;
            if (m == 1)
            {
                // A copy of x with the padding's zero: 16 KB at 4096 columns, read from L1 by every entry afterwards.
                var padded = t_paddedX is { } cached && cached.Length > Columns ? cached : t_paddedX = GC.AllocateUninitializedArray<float>(Columns + 1, pinned: true);
                x[..Columns].CopyTo(padded);
                padded[Columns] = 0f;
                fixed (float* pxPadded = padded)
                {
                    if (_columns16 != null) RunOneRow<ushort>(pxPadded, py, b, activation, threads);
                    else RunOneRow<int>(pxPadded, py, b, activation, threads);
                }
                return;
            }
            if (_columns16 != null) RunMany<ushort>(px, m, py, b, activation, threads);
            else RunMany<int>(px, m, py, b, activation, threads);
        }
    }

    private void RunOneRow<TIndex>(float* x, float* y, float* bias, FusedActivation activation, int threads) where TIndex : unmanaged
    {
        threads = CsrKernelSupport.UsefulThreads(threads, _values.Length);
        var bounds = CsrKernelSupport.SplitByNonZeros(_groupPointers, Groups, CsrKernelSupport.Parts(threads));
        var width = CsrKernelSupport.Width();
        fixed (float* values = _values)
        fixed (int* groupPointers = _groupPointers)
        fixed (ushort* c16 = _columns16)
        fixed (int* c32 = _columns32)
        {
            var w = new Kernel<TIndex>(values, groupPointers, _rowLengths, (TIndex*)(_columns16 != null ? (void*)c16 : c32), Rows, bias, activation, width);
            GemmParallel.For(bounds.Length - 1, threads, part => w.MatrixVector(x, y, bounds[part], bounds[part + 1]));
        }
    }

    private void RunMany<TIndex>(float* x, int m, float* y, float* bias, FusedActivation activation, int threads) where TIndex : unmanaged
    {
        threads = CsrKernelSupport.UsefulThreads(threads, _kept * m);
        var groupBounds = CsrKernelSupport.SplitByNonZeros(_groupPointers, Groups, CsrKernelSupport.Parts(threads));
        var bounds = groupBounds.Select(g => Math.Min(Rows, g * GroupRows)).ToArray();
        var width = CsrKernelSupport.Width();
        fixed (float* values = _values)
        fixed (int* groupPointers = _groupPointers)
        fixed (ushort* c16 = _columns16)
        fixed (int* c32 = _columns32)
        {
            var w = new Kernel<TIndex>(values, groupPointers, _rowLengths, (TIndex*)(_columns16 != null ? (void*)c16 : c32), Rows, bias, activation, width);
            // Tiles of X's rows as wide as two vectors of the narrowest width that covers m, as plain CSR does.
            if (width >= 512 && m > 16) MatrixMatrix<Vector512Ops, Vector512<float>, TIndex>(w, x, m, y, bounds, threads);
            else if (width >= 256 && m > 8) MatrixMatrix<Vector256Ops, Vector256<float>, TIndex>(w, x, m, y, bounds, threads);
            else if (width >= 128) MatrixMatrix<Vector128Ops, Vector128<float>, TIndex>(w, x, m, y, bounds, threads);
            else MatrixMatrix<ScalarOps, float, TIndex>(w, x, m, y, bounds, threads);
        }
    }

    private void MatrixMatrix<TOps, TVector, TIndex>(Kernel<TIndex> w, float* x, int m, float* y, int[] bounds, int threads)
        where TOps : IVectorOps<TVector> where TVector : struct where TIndex : unmanaged
    {
        var width = 2 * TOps.Count;
        CsrKernelSupport.ForEachTile(x, m, Columns, Columns, width, threads, bounds,
            (tile, t, start, end) => w.MatrixTile<TOps, TVector>(tile, t * width, Math.Min(width, m - t * width), y, start, end));
    }

    private readonly struct Kernel<TIndex>(float* values, int* groupPointers, int[] rowLengths, TIndex* columns, int rows, float* bias,
        FusedActivation activation, int vectorBits)
        where TIndex : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Column(TIndex* columns, int i) =>
            typeof(TIndex) == typeof(ushort) ? ((ushort*)columns)[i] : ((int*)columns)[i];

        /// <summary>x at the columns of eight consecutive entries; 16-bit indices come four to a 64-bit load.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Gather8(float* x, TIndex* c)
        {
            if (typeof(TIndex) == typeof(ushort))
            {
                ulong p = *(ulong*)c, q = *(ulong*)((ushort*)c + 4);
                return Vector256.Create(x[(ushort)p], x[(ushort)(p >> 16)], x[(ushort)(p >> 32)], x[(nint)(p >> 48)],
                    x[(ushort)q], x[(ushort)(q >> 16)], x[(ushort)(q >> 32)], x[(nint)(q >> 48)]);
            }
            var i = (int*)c;
            return Vector256.Create(x[i[0]], x[i[1]], x[i[2]], x[i[3]], x[i[4]], x[i[5]], x[i[6]], x[i[7]]);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> Gather4(float* x, TIndex* c)
        {
            if (typeof(TIndex) == typeof(ushort))
            {
                ulong p = *(ulong*)c;
                return Vector128.Create(x[(ushort)p], x[(ushort)(p >> 16)], x[(ushort)(p >> 32)], x[(nint)(p >> 48)]);
            }
            var i = (int*)c;
            return Vector128.Create(x[i[0]], x[i[1]], x[i[2]], x[i[3]]);
        }

        /// <summary>
        /// Fetches the weights 2 KB ahead: a weight is used once, so the loop streams, and when the weights are not
        /// in a cache (larger than it, or evicted between calls) this keeps more lines in flight than the hardware
        /// prefetcher alone (4096x4096 at 90% rotated over 86 MB of copies, one thread: 0.58 ms without, 0.50 with;
        /// no change when the weights stay in L3).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Prefetch(float* v, TIndex* c)
        {
            if (!Sse.IsSupported) return;
            Sse.Prefetch0(v + 512);
            Sse.Prefetch0(v + 528);
            Sse.Prefetch0((byte*)c + 512 * sizeof(ushort) * (sizeof(TIndex) / sizeof(ushort)));
            if (sizeof(TIndex) > sizeof(ushort)) Sse.Prefetch0((byte*)c + 512 * sizeof(int) + 64);
        }

        /// <summary>
        /// y[r] = dot(w[r, :], x) + bias[r] for the rows of groups [start, end). x has the padding's zero at index
        /// Columns. Four steps of eight entries per iteration into independent sums, whatever the vector width.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MatrixVector(float* x, float* y, int start, int end)
        {
            float* vals = values; int* pointers = groupPointers; TIndex* cols = columns;
            var sums = stackalloc float[GroupRows];
            for (var g = start; g < end; g++)
            {
                var v = vals + pointers[g];
                var c = cols + pointers[g];
                var last = vals + pointers[g + 1];
                if (vectorBits >= 512 && Vector512.IsHardwareAccelerated)
                {
                    // Two steps (sixteen entries) per vector: lanes 0-7 and 8-15 are the same eight rows.
                    Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero;
                    for (; v + 4 * GroupRows <= last; v += 4 * GroupRows, c += 4 * GroupRows)
                    {
                        Prefetch(v, c);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(v), Vector512.Create(Gather8(x, c), Gather8(x, c + GroupRows)), a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(v + 2 * GroupRows), Vector512.Create(Gather8(x, c + 2 * GroupRows), Gather8(x, c + 3 * GroupRows)), a1);
                    }
                    var a = a0 + a1;
                    var s = a.GetLower() + a.GetUpper();
                    for (; v < last; v += GroupRows, c += GroupRows) s = Vector256.FusedMultiplyAdd(Vector256.Load(v), Gather8(x, c), s);
                    s.Store(sums);
                }
                else if (vectorBits >= 256)
                {
                    Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                    for (; v + 4 * GroupRows <= last; v += 4 * GroupRows, c += 4 * GroupRows)
                    {
                        Prefetch(v, c);
                        a0 = Vector256.FusedMultiplyAdd(Vector256.Load(v), Gather8(x, c), a0);
                        a1 = Vector256.FusedMultiplyAdd(Vector256.Load(v + GroupRows), Gather8(x, c + GroupRows), a1);
                        a2 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 2 * GroupRows), Gather8(x, c + 2 * GroupRows), a2);
                        a3 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 3 * GroupRows), Gather8(x, c + 3 * GroupRows), a3);
                    }
                    for (; v < last; v += GroupRows, c += GroupRows) a0 = Vector256.FusedMultiplyAdd(Vector256.Load(v), Gather8(x, c), a0);
                    ((a0 + a1) + (a2 + a3)).Store(sums);
                }
                else if (vectorBits >= 128)
                {
                    // Rows 0-3 and 4-7 of the group in two vectors each, two steps per iteration.
                    Vector128<float> lo0 = Vector128<float>.Zero, hi0 = lo0, lo1 = lo0, hi1 = lo0;
                    for (; v + 2 * GroupRows <= last; v += 2 * GroupRows, c += 2 * GroupRows)
                    {
                        lo0 = Vector128.FusedMultiplyAdd(Vector128.Load(v), Gather4(x, c), lo0);
                        hi0 = Vector128.FusedMultiplyAdd(Vector128.Load(v + 4), Gather4(x, c + 4), hi0);
                        lo1 = Vector128.FusedMultiplyAdd(Vector128.Load(v + GroupRows), Gather4(x, c + GroupRows), lo1);
                        hi1 = Vector128.FusedMultiplyAdd(Vector128.Load(v + GroupRows + 4), Gather4(x, c + GroupRows + 4), hi1);
                    }
                    for (; v < last; v += GroupRows, c += GroupRows)
                    {
                        lo0 = Vector128.FusedMultiplyAdd(Vector128.Load(v), Gather4(x, c), lo0);
                        hi0 = Vector128.FusedMultiplyAdd(Vector128.Load(v + 4), Gather4(x, c + 4), hi0);
                    }
                    (lo0 + lo1).Store(sums);
                    (hi0 + hi1).Store(sums + 4);
                }
                else
                {
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
                    for (; v < last; v += GroupRows, c += GroupRows)
                    {
                        s0 = MathF.FusedMultiplyAdd(v[0], x[Column(c, 0)], s0);
                        s1 = MathF.FusedMultiplyAdd(v[1], x[Column(c, 1)], s1);
                        s2 = MathF.FusedMultiplyAdd(v[2], x[Column(c, 2)], s2);
                        s3 = MathF.FusedMultiplyAdd(v[3], x[Column(c, 3)], s3);
                        s4 = MathF.FusedMultiplyAdd(v[4], x[Column(c, 4)], s4);
                        s5 = MathF.FusedMultiplyAdd(v[5], x[Column(c, 5)], s5);
                        s6 = MathF.FusedMultiplyAdd(v[6], x[Column(c, 6)], s6);
                        s7 = MathF.FusedMultiplyAdd(v[7], x[Column(c, 7)], s7);
                    }
                    sums[0] = s0; sums[1] = s1; sums[2] = s2; sums[3] = s3; sums[4] = s4; sums[5] = s5; sums[6] = s6; sums[7] = s7;
                }
                var first = g * GroupRows;
                var count = Math.Min(GroupRows, rows - first);
                for (var j = 0; j < count; j++) y[first + j] = bias != null ? sums[j] + bias[first + j] : sums[j];
            }
            var from = start * GroupRows;
            var to = Math.Min(rows, end * GroupRows);
            if (to > from) Activations.Apply(new Span<float>(y + from, to - from), activation);
        }

        /// <summary>
        /// One tile of X's rows (transposed, <c>2 * TOps.Count</c> lanes) by output rows [start, end), as plain CSR's
        /// tile kernel, walking each row's entries with a stride of eight and stopping before its padding.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MatrixTile<TOps, TVector>(float* xt, int firstRow, int valid, float* y, int start, int end)
            where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var width = 2 * count;
            const int ChunkRows = 64;
            var chunk = stackalloc float[ChunkRows * width];
            float* vals = values; int* pointers = groupPointers; TIndex* cols = columns; float* b = bias;
            var lengths = rowLengths;
            for (var chunkStart = start; chunkStart < end; chunkStart += ChunkRows)
            {
                var chunkEnd = Math.Min(end, chunkStart + ChunkRows);
                for (var r = chunkStart; r < chunkEnd; r++)
                {
                    var lanes = chunk + (r - chunkStart) * width;
                    var sum0 = TOps.Broadcast(b != null ? b[r] : 0f);
                    var sum1 = sum0;
                    var offset = pointers[r / GroupRows] + r % GroupRows;
                    Accumulate<TOps, TVector>(xt, vals + offset, cols + offset, lengths[r], ref sum0, ref sum1);
                    TOps.Store(lanes, Activations.Activate<TOps, TVector>(sum0, activation));
                    TOps.Store(lanes + count, Activations.Activate<TOps, TVector>(sum1, activation));
                }
                MatrixTranspose.Transpose(chunk, width, y + (long)firstRow * rows + chunkStart, rows, chunkEnd - chunkStart, valid, vectorBits >= 256);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Accumulate<TOps, TVector>(float* xt, float* v, TIndex* c, int length, ref TVector sum0, ref TVector sum1)
            where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var width = 2 * count;
            TVector acc0 = sum0, acc1 = sum1, acc2 = TOps.Zero, acc3 = TOps.Zero, acc4 = TOps.Zero, acc5 = TOps.Zero, acc6 = TOps.Zero, acc7 = TOps.Zero;
            var k = 0;
            for (; k + 4 <= length; k += 4, v += 4 * GroupRows, c += 4 * GroupRows)
            {
                var x0 = xt + Column(c, 0) * width;
                var x1 = xt + Column(c, GroupRows) * width;
                var x2 = xt + Column(c, 2 * GroupRows) * width;
                var x3 = xt + Column(c, 3 * GroupRows) * width;
                var w0 = TOps.Broadcast(v[0]);
                acc0 = TOps.MultiplyAdd(w0, TOps.Load(x0), acc0);
                acc1 = TOps.MultiplyAdd(w0, TOps.Load(x0 + count), acc1);
                var w1 = TOps.Broadcast(v[GroupRows]);
                acc2 = TOps.MultiplyAdd(w1, TOps.Load(x1), acc2);
                acc3 = TOps.MultiplyAdd(w1, TOps.Load(x1 + count), acc3);
                var w2 = TOps.Broadcast(v[2 * GroupRows]);
                acc4 = TOps.MultiplyAdd(w2, TOps.Load(x2), acc4);
                acc5 = TOps.MultiplyAdd(w2, TOps.Load(x2 + count), acc5);
                var w3 = TOps.Broadcast(v[3 * GroupRows]);
                acc6 = TOps.MultiplyAdd(w3, TOps.Load(x3), acc6);
                acc7 = TOps.MultiplyAdd(w3, TOps.Load(x3 + count), acc7);
            }
            for (; k < length; k++, v += GroupRows, c += GroupRows)
            {
                var w0 = TOps.Broadcast(v[0]);
                var x0 = xt + Column(c, 0) * width;
                acc0 = TOps.MultiplyAdd(w0, TOps.Load(x0), acc0);
                acc1 = TOps.MultiplyAdd(w0, TOps.Load(x0 + count), acc1);
            }
            sum0 = TOps.Add(TOps.Add(acc0, acc2), TOps.Add(acc4, acc6));
            sum1 = TOps.Add(TOps.Add(acc1, acc3), TOps.Add(acc5, acc7));
        }
    }
}
