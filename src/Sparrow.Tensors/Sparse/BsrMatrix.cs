using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// Block-sparse rows: W cut into blocks of <see cref="BlockRows"/> x <see cref="BlockColumns"/>; a block is stored
/// (all its values, row-major) when any of its elements is kept. Rows and columns that are not multiples of the
/// block are padded with zeros inside the format. Block column indices are 32-bit: one index per block is a small
/// share of the bytes for every block shape except 1x1, so narrowing them is not worth a second code path.
/// </summary>
public sealed unsafe class BsrMatrix : ISparseMatrix
{
    private readonly float[] _values;
    private readonly int[] _blockRowPointers;
    private readonly int[] _blockColumns;

    private BsrMatrix(int rows, int columns, int blockRows, int blockColumns, float[] values, int[] blockRowPointers, int[] blockColumnIndices)
    {
        Rows = rows;
        Columns = columns;
        BlockRows = blockRows;
        BlockColumns = blockColumns;
        _values = values;
        _blockRowPointers = blockRowPointers;
        _blockColumns = blockColumnIndices;
    }

    /// <inheritdoc/>
    public SparseFormat Format => SparseFormat.Bsr;

    /// <inheritdoc/>
    public string Description => $"BSR {BlockRows}x{BlockColumns}";

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <summary>Rows of W per block.</summary>
    public int BlockRows { get; }

    /// <summary>Columns of W per block.</summary>
    public int BlockColumns { get; }

    /// <summary>Stored blocks.</summary>
    public int StoredBlocks => _blockColumns.Length;

    /// <inheritdoc/>
    public long StoredValues => _values.Length;

    /// <inheritdoc/>
    public long SizeInBytes => (long)_values.Length * sizeof(float) + (long)_blockRowPointers.Length * sizeof(int) + (long)_blockColumns.Length * sizeof(int);

    private int BlockRowCount => (Rows + BlockRows - 1) / BlockRows;

    private int BlockColumnCount => (Columns + BlockColumns - 1) / BlockColumns;

    /// <summary>
    /// Builds from dense row-major [rows, columns] values with blocks of <paramref name="blockRows"/> x
    /// <paramref name="blockColumns"/>. With a mask, an element is kept where its mask is true (its block then keeps
    /// every element; the others as stored, masked-out ones as zero); without one, non-zeros are kept.
    /// </summary>
    public static BsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, int blockRows, int blockColumns, ReadOnlySpan<bool> mask = default)
    {
        CsrMatrix.CheckDense(dense.Length, rows, columns, mask.Length);
        if (blockRows < 1 || blockColumns < 1 || blockRows > 64 || blockColumns > 64)
            throw new ArgumentOutOfRangeException(nameof(blockRows), $"Block shape {blockRows}x{blockColumns} is not supported (1 to 64 each way).");
        var blockRowCount = (rows + blockRows - 1) / blockRows;
        var blockColumnCount = (columns + blockColumns - 1) / blockColumns;
        var blockRowPointers = new int[blockRowCount + 1];
        var columnsList = new List<int>();
        var valuesList = new List<float>();
        for (var br = 0; br < blockRowCount; br++)
        {
            for (var bc = 0; bc < blockColumnCount; bc++)
            {
                var any = false;
                for (var i = 0; i < blockRows && !any; i++)
                    for (var j = 0; j < blockColumns && !any; j++)
                    {
                        int r = br * blockRows + i, c = bc * blockColumns + j;
                        if (r < rows && c < columns && CsrMatrix.IsKept(dense, mask, r * columns + c)) any = true;
                    }
                if (!any) continue;
                columnsList.Add(bc);
                for (var i = 0; i < blockRows; i++)
                    for (var j = 0; j < blockColumns; j++)
                    {
                        int r = br * blockRows + i, c = bc * blockColumns + j;
                        var kept = r < rows && c < columns && CsrMatrix.IsKept(dense, mask, r * columns + c);
                        valuesList.Add(kept ? dense[r * columns + c] : 0f);
                    }
            }
            blockRowPointers[br + 1] = columnsList.Count;
        }
        return new BsrMatrix(rows, columns, blockRows, blockColumns, valuesList.ToArray(), blockRowPointers, columnsList.ToArray());
    }

    /// <inheritdoc/>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        var blockSize = BlockRows * BlockColumns;
        for (var br = 0; br < BlockRowCount; br++)
            for (var b = _blockRowPointers[br]; b < _blockRowPointers[br + 1]; b++)
                for (var i = 0; i < BlockRows; i++)
                    for (var j = 0; j < BlockColumns; j++)
                    {
                        int r = br * BlockRows + i, c = _blockColumns[b] * BlockColumns + j;
                        if (r < Rows && c < Columns) dense[(long)r * Columns + c] = _values[b * blockSize + i * BlockColumns + j];
                    }
        return dense;
    }

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
        threads = CsrKernelSupport.UsefulThreads(threads, (long)_values.Length * m);
        var bounds = CsrKernelSupport.SplitByNonZeros(_blockRowPointers, BlockRowCount, CsrKernelSupport.Parts(threads));
        var paddedColumns = BlockColumnCount * BlockColumns;
        var width = CsrKernelSupport.Width();
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        fixed (float* values = _values)
        fixed (int* blockRowPointers = _blockRowPointers)
        fixed (int* blockColumns = _blockColumns)
        {
            var kernel = new Kernel(values, blockRowPointers, blockColumns, BlockRows, BlockColumns, Rows, bias.IsEmpty ? null : pb, activation, width);
            if (m == 1)
            {
                // X padded to whole blocks, so a block at the right edge reads zeros rather than past X.
                float[]? padded = null;
                try
                {
                    var xv = px;
                    if (paddedColumns != Columns)
                    {
                        padded = ArrayPool<float>.Shared.Rent(paddedColumns);
                        x[..Columns].CopyTo(padded);
                        padded.AsSpan(Columns, paddedColumns - Columns).Clear();
                    }
                    fixed (float* pp = padded)
                    {
                        if (padded != null) xv = pp;
                        var source = xv;
                        var output = py;
                        GemmParallel.For(bounds.Length - 1, threads, part => kernel.MatrixVector(source, output, bounds[part], bounds[part + 1]));
                    }
                }
                finally
                {
                    if (padded != null) ArrayPool<float>.Shared.Return(padded);
                }
                return;
            }
            if (width >= 512 && m > 16) MatrixMatrix<Vector512Ops, Vector512<float>>(kernel, px, m, py, paddedColumns, bounds, threads);
            else if (width >= 256 && m > 8) MatrixMatrix<Vector256Ops, Vector256<float>>(kernel, px, m, py, paddedColumns, bounds, threads);
            else if (width >= 128) MatrixMatrix<Vector128Ops, Vector128<float>>(kernel, px, m, py, paddedColumns, bounds, threads);
            else MatrixMatrix<ScalarOps, float>(kernel, px, m, py, paddedColumns, bounds, threads);
        }
    }

    private void MatrixMatrix<TOps, TVector>(Kernel kernel, float* x, int m, float* y, int paddedColumns, int[] bounds, int threads)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = 2 * TOps.Count;
        CsrKernelSupport.ForEachTile(x, m, Columns, paddedColumns, width, threads, bounds,
            (tile, t, start, end) => kernel.MatrixTile<TOps, TVector>(tile, t * width, Math.Min(width, m - t * width), y, start, end));
    }

    private readonly struct Kernel(float* values, int* blockRowPointers, int* blockColumns, int blockRows, int blockCols, int rows, float* bias, FusedActivation activation, int vectorBits)
    {
        /// <summary>y[r] for the rows of block rows [start, end), from x padded to whole blocks.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MatrixVector(float* x, float* y, int start, int end)
        {
            var sums = stackalloc float[blockRows];
            for (var br = start; br < end; br++)
            {
                int first = blockRowPointers[br], stop = blockRowPointers[br + 1];
                if (blockCols == 1 && blockRows == 16 && vectorBits >= 512) Vertical<Vector512Ops, Vector512<float>>(x, first, stop, sums);
                else if (blockCols == 1 && blockRows % 8 == 0 && blockRows <= 32 && vectorBits >= 256) Vertical<Vector256Ops, Vector256<float>>(x, first, stop, sums);
                else if (blockCols == 1 && blockRows % 4 == 0 && blockRows <= 16 && vectorBits >= 128) Vertical<Vector128Ops, Vector128<float>>(x, first, stop, sums);
                else if (blockCols % 4 == 0 && vectorBits >= 128) Horizontal(x, first, stop, sums);
                else Scalar(x, first, stop, sums);
                var rowStart = br * blockRows;
                var valid = Math.Min(blockRows, rows - rowStart);
                for (var i = 0; i < valid; i++) y[rowStart + i] = bias != null ? sums[i] + bias[rowStart + i] : sums[i];
            }
            var from = start * blockRows;
            var to = Math.Min(end * blockRows, rows);
            if (to > from) Activations.Apply(new Span<float>(y + from, to - from), activation);
        }

        /// <summary>Blocks one column wide: the block is a column of W, a vector of outputs times one x.</summary>
        private void Vertical<TOps, TVector>(float* x, int first, int stop, float* sums) where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var vectors = blockRows / count; // 1 to 4
            TVector acc0 = TOps.Zero, acc1 = TOps.Zero, acc2 = TOps.Zero, acc3 = TOps.Zero;
            for (var b = first; b < stop; b++)
            {
                var xv = TOps.Broadcast(x[blockColumns[b]]);
                var w = values + (long)b * blockRows;
                acc0 = TOps.MultiplyAdd(TOps.Load(w), xv, acc0);
                if (vectors > 1) acc1 = TOps.MultiplyAdd(TOps.Load(w + count), xv, acc1);
                if (vectors > 2) acc2 = TOps.MultiplyAdd(TOps.Load(w + 2 * count), xv, acc2);
                if (vectors > 3) acc3 = TOps.MultiplyAdd(TOps.Load(w + 3 * count), xv, acc3);
            }
            TOps.Store(sums, acc0);
            if (vectors > 1) TOps.Store(sums + count, acc1);
            if (vectors > 2) TOps.Store(sums + 2 * count, acc2);
            if (vectors > 3) TOps.Store(sums + 3 * count, acc3);
        }

        /// <summary>Blocks whose width is a multiple of 4: each block row is a short dot product with x.</summary>
        private void Horizontal(float* x, int first, int stop, float* sums)
        {
            var blockSize = blockRows * blockCols;
            for (var i = 0; i < blockRows; i++)
            {
                var acc = Vector128<float>.Zero;
                for (var b = first; b < stop; b++)
                {
                    var w = values + (long)b * blockSize + i * blockCols;
                    var xs = x + (long)blockColumns[b] * blockCols;
                    for (var j = 0; j < blockCols; j += 4)
                        acc = Vector128.MultiplyAddEstimate(Vector128.Load(w + j), Vector128.Load(xs + j), acc);
                }
                sums[i] = Vector128.Sum(acc);
            }
        }

        private void Scalar(float* x, int first, int stop, float* sums)
        {
            var blockSize = blockRows * blockCols;
            for (var i = 0; i < blockRows; i++)
            {
                var sum = 0f;
                for (var b = first; b < stop; b++)
                {
                    var w = values + (long)b * blockSize + i * blockCols;
                    var xs = x + (long)blockColumns[b] * blockCols;
                    for (var j = 0; j < blockCols; j++) sum = float.MultiplyAddEstimate(w[j], xs[j], sum);
                }
                sums[i] = sum;
            }
        }

        /// <summary>
        /// One tile of X's rows (transposed, padded to whole blocks) by block rows [start, end): each output row
        /// walks the blocks of its block row, each weight multiplying every row of the tile.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MatrixTile<TOps, TVector>(float* xt, int firstRow, int validLanes, float* y, int start, int end)
            where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var width = 2 * count;
            var blockSize = blockRows * blockCols;
            // Results of a block row, lane-contiguous, then written to Y row by row (sequential stores).
            var chunk = stackalloc float[blockRows * width];
            float* vals = values; int* pointers = blockRowPointers; int* cols = blockColumns; float* b = bias;
            for (var br = start; br < end; br++)
            {
                int first = pointers[br], stop = pointers[br + 1];
                var rowStart = br * blockRows;
                var validRows = Math.Min(blockRows, rows - rowStart);
                for (var i = 0; i < validRows; i++)
                {
                    var r = rowStart + i;
                    var lanes = chunk + i * width;
                    var acc0 = TOps.Broadcast(b != null ? b[r] : 0f);
                    var acc1 = acc0;
                    for (var block = first; block < stop; block++)
                    {
                        var w = vals + (long)block * blockSize + i * blockCols;
                        var xs = xt + (long)cols[block] * blockCols * width;
                        for (var j = 0; j < blockCols; j++, xs += width)
                        {
                            var wv = TOps.Broadcast(w[j]);
                            acc0 = TOps.MultiplyAdd(wv, TOps.Load(xs), acc0);
                            acc1 = TOps.MultiplyAdd(wv, TOps.Load(xs + count), acc1);
                        }
                    }
                    TOps.Store(lanes, Activations.Activate<TOps, TVector>(acc0, activation));
                    TOps.Store(lanes + count, Activations.Activate<TOps, TVector>(acc1, activation));
                }
                MatrixTranspose.Transpose(chunk, width, y + (long)firstRow * rows + rowStart, rows, validRows, validLanes, vectorBits >= 256);
            }
        }
    }
}
