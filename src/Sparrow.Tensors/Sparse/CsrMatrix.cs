using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// Compressed sparse rows: per output row, its kept weights and their column indices. Indices are absolute (not
/// deltas) so the matrix-vector kernel can gather x with them directly and the matrix-matrix kernel can address
/// the transposed X without a running sum; they are 16-bit when every column fits (Columns &lt;= 65536), which
/// makes a kept weight cost 6 bytes instead of 8.
/// </summary>
public sealed unsafe class CsrMatrix : ISparseMatrix
{
    private readonly float[] _values;
    private readonly int[] _rowPointers;
    private readonly ushort[]? _columns16;
    private readonly int[]? _columns32;

    private CsrMatrix(int rows, int columns, float[] values, int[] rowPointers, ushort[]? columns16, int[]? columns32)
    {
        Rows = rows;
        Columns = columns;
        _values = values;
        _rowPointers = rowPointers;
        _columns16 = columns16;
        _columns32 = columns32;
    }

    /// <inheritdoc/>
    public SparseFormat Format => SparseFormat.Csr;

    /// <inheritdoc/>
    public string Description => $"CSR ({(UsesNarrowIndices ? 16 : 32)}-bit indices)";

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <summary>Whether column indices are stored in 16 bits.</summary>
    public bool UsesNarrowIndices => _columns16 != null;

    /// <inheritdoc/>
    public long StoredValues => _values.Length;

    /// <inheritdoc/>
    public long SizeInBytes => (long)_values.Length * sizeof(float) + (long)_rowPointers.Length * sizeof(int)
        + (_columns16 != null ? (long)_columns16.Length * sizeof(ushort) : (long)_columns32!.Length * sizeof(int));

    /// <summary>
    /// Builds from dense row-major [rows, columns] values. With a mask, elements whose mask is false are pruned
    /// (kept zeros stay stored); without one, zeros are pruned.
    /// </summary>
    public static CsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, ReadOnlySpan<bool> mask = default)
    {
        CheckDense(dense.Length, rows, columns, mask.Length);
        var total = (long)rows * columns;
        var kept = 0L;
        for (var i = 0L; i < total; i++) if (IsKept(dense, mask, (int)i)) kept++;
        if (kept > Array.MaxLength) throw new ArgumentException($"A {rows} x {columns} matrix with {kept} kept weights is too large for CSR.");
        var values = new float[kept];
        var rowPointers = new int[rows + 1];
        var narrow = columns <= 65536;
        var columns16 = narrow ? new ushort[kept] : null;
        var columns32 = narrow ? null : new int[kept];
        var n = 0;
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                var i = r * columns + c;
                if (!IsKept(dense, mask, i)) continue;
                values[n] = dense[i];
                if (narrow) columns16![n] = (ushort)c; else columns32![n] = c;
                n++;
            }
            rowPointers[r + 1] = n;
        }
        return new CsrMatrix(rows, columns, values, rowPointers, columns16, columns32);
    }

    internal static void CheckDense(int denseLength, int rows, int columns, int maskLength)
    {
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Dimensions must not be negative ({rows} x {columns}).");
        var total = (long)rows * columns;
        if (total > int.MaxValue) throw new ArgumentException($"A {rows} x {columns} matrix is too large.");
        if (denseLength < total) throw new ArgumentException($"The dense matrix has {denseLength} elements; {rows} x {columns} needs {total}.");
        if (maskLength != 0 && maskLength < total) throw new ArgumentException($"The mask has {maskLength} elements; {rows} x {columns} needs {total}.");
    }

    internal static bool IsKept(ReadOnlySpan<float> dense, ReadOnlySpan<bool> mask, int i) => mask.IsEmpty ? dense[i] != 0f : mask[i];

    /// <inheritdoc/>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
            for (var p = _rowPointers[r]; p < _rowPointers[r + 1]; p++)
                dense[(long)r * Columns + ColumnAt(p)] = _values[p];
        return dense;
    }

    private int ColumnAt(int p) => _columns16 != null ? _columns16[p] : _columns32![p];

    /// <inheritdoc/>
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
            if (_columns16 != null) Run<ushort>(px, m, py, b, activation, threads);
            else Run<int>(px, m, py, b, activation, threads);
        }
    }

    private void Run<TIndex>(float* x, int m, float* y, float* bias, FusedActivation activation, int threads) where TIndex : unmanaged
    {
        threads = CsrKernelSupport.UsefulThreads(threads, (long)_values.Length * m);
        var bounds = CsrKernelSupport.SplitByNonZeros(_rowPointers, Rows, CsrKernelSupport.Parts(threads));
        var width = CsrKernelSupport.Width();
        fixed (float* values = _values)
        fixed (int* rowPointers = _rowPointers)
        fixed (ushort* c16 = _columns16)
        fixed (int* c32 = _columns32)
        {
            var w = new Kernel<TIndex>(values, rowPointers, (TIndex*)(_columns16 != null ? (void*)c16 : c32), Rows, bias, activation, width);
            if (m == 1)
            {
                GemmParallel.For(bounds.Length - 1, threads, part => w.MatrixVector(x, y, bounds[part], bounds[part + 1]));
                return;
            }
            // Tiles of X's rows as wide as two vectors of the narrowest width that covers m (fewer wasted lanes for small m).
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

    /// <summary>The kernels over raw pointers to the stored arrays, pinned for the duration of one multiply.</summary>
    private readonly struct Kernel<TIndex>(float* values, int* rowPointers, TIndex* columns, int rows, float* bias, FusedActivation activation, int vectorBits)
        where TIndex : unmanaged
    {
        /// <summary>Elements from the start of X's transposed tile to column <c>columns[i]</c>, as a native integer.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Offset(TIndex* columns, int i, int width) =>
            typeof(TIndex) == typeof(ushort) ? (nint)((ushort*)columns)[i] * width : (nint)((int*)columns)[i] * width;

        /// <summary>
        /// y[r] = dot(w[r, :], x) + bias[r] for rows in [start, end). x is read one element per kept weight with
        /// scalar loads into eight independent sums: measured faster than AVX2 gathers (which .NET offers only
        /// 8 wide and which are microcoded on AMD), and the same code on every vector width.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MatrixVector(float* x, float* y, int start, int end)
        {
            // Locals, not the struct's fields, so the JIT keeps them in registers across the loops.
            float* vals = values; int* pointers = rowPointers; TIndex* cols = columns; float* b = bias;
            for (var r = start; r < end; r++)
            {
                var v = vals + pointers[r];
                var c = cols + pointers[r];
                var last = vals + pointers[r + 1];
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
                for (; v + 8 <= last; v += 8, c += 8)
                {
                    if (Sse.IsSupported)
                    {
                        // A weight is used once, so this loop streams from memory; fetching ahead keeps more
                        // cache lines in flight than the hardware prefetcher alone (one thread: 12 GB/s without, 15.7 with).
                        Sse.Prefetch0(v + 256);
                        Sse.Prefetch0((byte*)c + 512);
                    }
                    s0 = MathF.FusedMultiplyAdd(v[0], x[Offset(c, 0, 1)], s0);
                    s1 = MathF.FusedMultiplyAdd(v[1], x[Offset(c, 1, 1)], s1);
                    s2 = MathF.FusedMultiplyAdd(v[2], x[Offset(c, 2, 1)], s2);
                    s3 = MathF.FusedMultiplyAdd(v[3], x[Offset(c, 3, 1)], s3);
                    s4 = MathF.FusedMultiplyAdd(v[4], x[Offset(c, 4, 1)], s4);
                    s5 = MathF.FusedMultiplyAdd(v[5], x[Offset(c, 5, 1)], s5);
                    s6 = MathF.FusedMultiplyAdd(v[6], x[Offset(c, 6, 1)], s6);
                    s7 = MathF.FusedMultiplyAdd(v[7], x[Offset(c, 7, 1)], s7);
                }
                for (; v < last; v++, c++) s0 = MathF.FusedMultiplyAdd(v[0], x[Offset(c, 0, 1)], s0);
                var sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
                y[r] = b != null ? sum + b[r] : sum;
            }
            Activations.Apply(new Span<float>(y + start, end - start), activation);
        }

        /// <summary>
        /// One tile of X's rows (transposed, <c>2 * TOps.Count</c> lanes) by output rows [start, end): each weight is
        /// loaded once and multiplies every row of the tile; results go to Y's rows firstRow .. firstRow + valid - 1.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MatrixTile<TOps, TVector>(float* xt, int firstRow, int valid, float* y, int start, int end)
            where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var width = 2 * count;
            // Results of up to ChunkRows output rows, lane-contiguous, then written out row of Y by row of Y:
            // sequential stores instead of one strided store per lane and output.
            const int ChunkRows = 64;
            var chunk = stackalloc float[ChunkRows * width];
            float* vals = values; int* pointers = rowPointers; TIndex* cols = columns; float* b = bias;
            for (var chunkStart = start; chunkStart < end; chunkStart += ChunkRows)
            {
                var chunkEnd = Math.Min(end, chunkStart + ChunkRows);
                for (var r = chunkStart; r < chunkEnd; r++)
                {
                    var lanes = chunk + (r - chunkStart) * width;
                    var sum0 = TOps.Broadcast(b != null ? b[r] : 0f);
                    var sum1 = sum0;
                    Accumulate<TOps, TVector>(xt, vals + pointers[r], cols + pointers[r], vals + pointers[r + 1], ref sum0, ref sum1);
                    TOps.Store(lanes, Activations.Activate<TOps, TVector>(sum0, activation));
                    TOps.Store(lanes + count, Activations.Activate<TOps, TVector>(sum1, activation));
                }
                MatrixTranspose.Transpose(chunk, width, y + (long)firstRow * rows + chunkStart, rows, chunkEnd - chunkStart, valid, vectorBits >= 256);
            }
        }

        /// <summary>
        /// Adds the kept weights [v, stop) (their columns from c) times X's transposed tile into the two vectors of
        /// sums (lanes 0..Count-1 and Count..2·Count-1 of the tile).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Accumulate<TOps, TVector>(float* xt, float* v, TIndex* c, float* stop, ref TVector sum0, ref TVector sum1)
            where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var width = 2 * count;
            TVector acc0 = sum0, acc1 = sum1, acc2 = TOps.Zero, acc3 = TOps.Zero, acc4 = TOps.Zero, acc5 = TOps.Zero, acc6 = TOps.Zero, acc7 = TOps.Zero;
            // Pointers that walk the row and column offsets as native integers keep the loop body to little more
            // than its loads and multiply-adds; four weights per step into four pairs of sums, because one
            // multiply-add's latency is four cycles or more.
            for (; v + 4 <= stop; v += 4, c += 4)
            {
                var x0 = xt + Offset(c, 0, width);
                var x1 = xt + Offset(c, 1, width);
                var x2 = xt + Offset(c, 2, width);
                var x3 = xt + Offset(c, 3, width);
                var w0 = TOps.Broadcast(v[0]);
                acc0 = TOps.MultiplyAdd(w0, TOps.Load(x0), acc0);
                acc1 = TOps.MultiplyAdd(w0, TOps.Load(x0 + count), acc1);
                var w1 = TOps.Broadcast(v[1]);
                acc2 = TOps.MultiplyAdd(w1, TOps.Load(x1), acc2);
                acc3 = TOps.MultiplyAdd(w1, TOps.Load(x1 + count), acc3);
                var w2 = TOps.Broadcast(v[2]);
                acc4 = TOps.MultiplyAdd(w2, TOps.Load(x2), acc4);
                acc5 = TOps.MultiplyAdd(w2, TOps.Load(x2 + count), acc5);
                var w3 = TOps.Broadcast(v[3]);
                acc6 = TOps.MultiplyAdd(w3, TOps.Load(x3), acc6);
                acc7 = TOps.MultiplyAdd(w3, TOps.Load(x3 + count), acc7);
            }
            for (; v < stop; v++, c++)
            {
                var w0 = TOps.Broadcast(v[0]);
                var x0 = xt + Offset(c, 0, width);
                acc0 = TOps.MultiplyAdd(w0, TOps.Load(x0), acc0);
                acc1 = TOps.MultiplyAdd(w0, TOps.Load(x0 + count), acc1);
            }
            sum0 = TOps.Add(TOps.Add(acc0, acc2), TOps.Add(acc4, acc6));
            sum1 = TOps.Add(TOps.Add(acc1, acc3), TOps.Add(acc5, acc7));
        }
    }
}
