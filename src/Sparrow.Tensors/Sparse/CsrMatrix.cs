using System.Buffers;
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

    public SparseFormat Format => SparseFormat.Csr;

    public string Description => $"CSR ({(UsesNarrowIndices ? 16 : 32)}-bit indices)";

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Whether column indices are stored in 16 bits.</summary>
    public bool UsesNarrowIndices => _columns16 != null;

    public long StoredValues => _values.Length;

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

    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
            for (var p = _rowPointers[r]; p < _rowPointers[r + 1]; p++)
                dense[(long)r * Columns + ColumnAt(p)] = _values[p];
        return dense;
    }

    private int ColumnAt(int p) => _columns16 != null ? _columns16[p] : _columns32![p];

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
        var xt = CsrKernelSupport.TransposeTiles(x, m, Columns, Columns, width, threads, out var tiles);
        try
        {
            fixed (float* pxt = xt)
            {
                var xtp = pxt;
                var parts = bounds.Length - 1;
                // Each work item is one range of rows by every tile: the range's weights stay in cache across tiles.
                GemmParallel.For(parts, threads, part =>
                {
                    for (var t = 0; t < tiles; t++)
                        w.MatrixTile<TOps, TVector>(xtp + (long)t * Columns * width, t * width, Math.Min(width, m - t * width), y, bounds[part], bounds[part + 1]);
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xt);
        }
    }

    /// <summary>The kernels over raw pointers to the stored arrays, pinned for the duration of one multiply.</summary>
    private readonly struct Kernel<TIndex>(float* values, int* rowPointers, TIndex* columns, int rows, float* bias, FusedActivation activation, int vectorBits)
        where TIndex : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int Column(TIndex* columns, int p) =>
            typeof(TIndex) == typeof(ushort) ? ((ushort*)columns)[p] : ((int*)columns)[p];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> Columns8(TIndex* columns, int p) =>
            typeof(TIndex) == typeof(ushort) ? Avx2.ConvertToVector256Int32((ushort*)columns + p) : Avx.LoadVector256((int*)columns + p);

        /// <summary>y[r] = dot(w[r, :], x) + bias[r] for rows in [start, end): gathers x by column index.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MatrixVector(float* x, float* y, int start, int end)
        {
            // Locals, not the struct's fields, so the JIT keeps them in registers across the loops.
            float* vals = values; int* pointers = rowPointers; TIndex* cols = columns; float* b = bias;
            for (var r = start; r < end; r++)
            {
                int p = pointers[r], stop = pointers[r + 1];
                var sum = 0f;
                if (vectorBits >= 256 && Avx2.IsSupported && Fma.IsSupported)
                {
                    // Four independent sums hide the gathers' latency.
                    var acc0 = Vector256<float>.Zero;
                    var acc1 = Vector256<float>.Zero;
                    var acc2 = Vector256<float>.Zero;
                    var acc3 = Vector256<float>.Zero;
                    for (; p + 32 <= stop; p += 32)
                    {
                        acc0 = Fma.MultiplyAdd(Avx.LoadVector256(vals + p), Avx2.GatherVector256(x, Columns8(cols, p), 4), acc0);
                        acc1 = Fma.MultiplyAdd(Avx.LoadVector256(vals + p + 8), Avx2.GatherVector256(x, Columns8(cols, p + 8), 4), acc1);
                        acc2 = Fma.MultiplyAdd(Avx.LoadVector256(vals + p + 16), Avx2.GatherVector256(x, Columns8(cols, p + 16), 4), acc2);
                        acc3 = Fma.MultiplyAdd(Avx.LoadVector256(vals + p + 24), Avx2.GatherVector256(x, Columns8(cols, p + 24), 4), acc3);
                    }
                    for (; p + 8 <= stop; p += 8)
                        acc0 = Fma.MultiplyAdd(Avx.LoadVector256(vals + p), Avx2.GatherVector256(x, Columns8(cols, p), 4), acc0);
                    sum = Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
                }
                else if (vectorBits >= 128)
                {
                    // No gather: build the vector of x from four scalar loads; still four independent sums.
                    var acc = Vector128<float>.Zero;
                    for (; p + 4 <= stop; p += 4)
                    {
                        var xv = Vector128.Create(x[Column(cols, p)], x[Column(cols, p + 1)], x[Column(cols, p + 2)], x[Column(cols, p + 3)]);
                        acc = Vector128.MultiplyAddEstimate(Vector128.Load(vals + p), xv, acc);
                    }
                    sum = Vector128.Sum(acc);
                }
                for (; p < stop; p++) sum = float.MultiplyAddEstimate(vals[p], x[Column(cols, p)], sum);
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
                    var acc0 = TOps.Broadcast(b != null ? b[r] : 0f);
                    var acc1 = acc0;
                    var acc2 = TOps.Zero;
                    var acc3 = TOps.Zero;
                    int p = pointers[r], stop = pointers[r + 1];
                    for (; p + 2 <= stop; p += 2)
                    {
                        var w0 = TOps.Broadcast(vals[p]);
                        var w1 = TOps.Broadcast(vals[p + 1]);
                        var x0 = xt + Column(cols, p) * width;
                        var x1 = xt + Column(cols, p + 1) * width;
                        acc0 = TOps.MultiplyAdd(w0, TOps.Load(x0), acc0);
                        acc1 = TOps.MultiplyAdd(w0, TOps.Load(x0 + count), acc1);
                        acc2 = TOps.MultiplyAdd(w1, TOps.Load(x1), acc2);
                        acc3 = TOps.MultiplyAdd(w1, TOps.Load(x1 + count), acc3);
                    }
                    if (p < stop)
                    {
                        var w0 = TOps.Broadcast(vals[p]);
                        var x0 = xt + Column(cols, p) * width;
                        acc0 = TOps.MultiplyAdd(w0, TOps.Load(x0), acc0);
                        acc1 = TOps.MultiplyAdd(w0, TOps.Load(x0 + count), acc1);
                    }
                    TOps.Store(lanes, Activations.Activate<TOps, TVector>(TOps.Add(acc0, acc2), activation));
                    TOps.Store(lanes + count, Activations.Activate<TOps, TVector>(TOps.Add(acc1, acc3), activation));
                }
                for (var lane = 0; lane < valid; lane++)
                {
                    var target = y + (long)(firstRow + lane) * rows + chunkStart;
                    for (var i = 0; i < chunkEnd - chunkStart; i++) target[i] = chunk[i * width + lane];
                }
            }
        }
    }
}
