using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// N:M sparsity (at most N kept in every group of M ≤ 8 consecutive columns) for a kernel with no permutes: X is
/// transposed once per call into tiles of its rows (like CSR's multi-row kernel), and each kept weight is one
/// broadcast times the transposed row its column names, loaded straight from L1. What keeps that row in L1 is the
/// N:M layout: an output's kept weights of a chunk of 128 input columns sit together, so the kernel walks a block of
/// 64 outputs chunk by chunk, with the block's partial sums on the stack and only a 16 KB slice of X's tile (32 rows)
/// in use. Per kept weight: a byte of position and a float (stored chunk by chunk, block by block, in the order the
/// kernel reads them), one broadcast, and per tile vector one load and one multiply-add. Where
/// <see cref="NMPanelMatrix"/> needs a 16-lane permute per multiply-add, this one needs none; it needs more rows of X
/// to fill its vectors (a tile is two vectors of rows).
/// </summary>
internal sealed unsafe class NMChunkedMatrix : ISparseMatrix, ISparseRowSource
{
    /// <summary>Outputs whose partial sums stay on the stack while the kernel walks the chunks.</summary>
    private const int BlockRows = 64;

    /// <summary>Input columns per chunk: 128 rows of a 32-lane tile are 16 KB, a third of a Zen 5 core's L1.</summary>
    private const int ChunkColumns = 128;

    private readonly float[] _values;
    private readonly byte[] _offsets;
    private readonly int _groups;
    private readonly int _chunkGroups;
    private readonly int _chunks;
    private readonly int _rowSlots;

    private NMChunkedMatrix(int rows, int columns, int n, int m)
    {
        Rows = rows;
        Columns = columns;
        N = n;
        M = m;
        _groups = (columns + m - 1) / m;
        _chunkGroups = ChunkColumns / m;
        _chunks = (_groups + _chunkGroups - 1) / _chunkGroups;
        _rowSlots = _groups * n;
        _values = new float[(long)rows * _rowSlots];
        _offsets = new byte[_values.LongLength];
    }

    /// <inheritdoc/>
    public SparseFormat Format => SparseFormat.NM;

    /// <inheritdoc/>
    public string Description => $"N:M {N}:{M} chunked";

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <summary>Most values kept per group.</summary>
    public int N { get; }

    /// <summary>Group length along the input features.</summary>
    public int M { get; }

    /// <inheritdoc/>
    public long StoredValues => _values.LongLength;

    /// <inheritdoc/>
    public long SizeInBytes => _values.LongLength * sizeof(float) + _offsets.LongLength;

    int ISparseRowSource.MaxRowEntries => _rowSlots;

    long ISparseRowSource.RowCost(int row) => _rowSlots + 4;

    /// <summary>Slots of one output in chunk <paramref name="chunk"/> (the last chunk may hold fewer groups).</summary>
    private int ChunkSlots(int chunk) => Math.Min(_chunkGroups, _groups - chunk * _chunkGroups) * N;

    /// <summary>
    /// Where output <paramref name="row"/>'s slots of <paramref name="chunk"/> start: blocks of 64 outputs one after
    /// another; within a block, chunk after chunk; within a chunk, output after output.
    /// </summary>
    private long ChunkStart(int row, int chunk)
    {
        var blockStart = row / BlockRows * BlockRows;
        var height = Math.Min(BlockRows, Rows - blockStart);
        return (long)blockStart * _rowSlots + (long)chunk * height * _chunkGroups * N + (long)(row - blockStart) * ChunkSlots(chunk);
    }

    /// <summary>
    /// Builds from dense row-major [rows, columns] values; kept entries are those where <paramref name="mask"/> is
    /// true, or the non-zeros without a mask. A group keeping more than <paramref name="n"/> is refused with an
    /// <see cref="ArgumentException"/> that names it.
    /// </summary>
    public static NMChunkedMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, int n, int m, ReadOnlySpan<bool> mask = default)
    {
        CsrMatrix.CheckDense(dense.Length, rows, columns, mask.Length);
        if (m < 1 || m > 8) throw new ArgumentOutOfRangeException(nameof(m), $"M must be 1 to 8 for the chunked format, not {m}.");
        if (n < 1 || n > m) throw new ArgumentOutOfRangeException(nameof(n), $"N must be 1 to M ({m}), not {n}.");
        var matrix = new NMChunkedMatrix(rows, columns, n, m);
        for (var r = 0; r < rows; r++)
            for (var g = 0; g < matrix._groups; g++)
            {
                int chunk = g / matrix._chunkGroups, inChunk = g % matrix._chunkGroups, kept = 0;
                var start = matrix.ChunkStart(r, chunk) + inChunk * n;
                for (var p = 0; p < m && g * m + p < columns; p++)
                {
                    var i = r * columns + g * m + p;
                    if (!CsrMatrix.IsKept(dense, mask, i)) continue;
                    if (kept == n)
                        throw new ArgumentException(
                            $"the matrix is not {n}:{m} sparse: row {r}, group {g} (columns {g * m} to {Math.Min(columns, g * m + m) - 1}) keeps more than {n} values.",
                            nameof(dense));
                    matrix._values[start + kept] = dense[i];
                    matrix._offsets[start + kept++] = (byte)(inChunk * m + p);
                }
                // Unused slots keep value 0 at the group's first column, inside the matrix: they add nothing.
                for (; kept < n; kept++) matrix._offsets[start + kept] = (byte)(inChunk * m);
            }
        return matrix;
    }

    /// <inheritdoc/>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < _chunks; c++)
            {
                var start = ChunkStart(r, c);
                for (var s = 0; s < ChunkSlots(c); s++)
                    dense[(long)r * Columns + c * _chunkGroups * M + _offsets[start + s]] += _values[start + s];
            }
        return dense;
    }

    int ISparseRowSource.DecodeRow(int row, int* columns, float* values)
    {
        var count = 0;
        for (var c = 0; c < _chunks; c++)
        {
            var start = ChunkStart(row, c);
            for (var s = 0; s < ChunkSlots(c); s++, count++)
            {
                columns[count] = c * _chunkGroups * M + _offsets[start + s];
                values[count] = _values[start + s];
            }
        }
        return count;
    }

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads)
    {
        SparseRowKernels.CheckArguments(this, x, m, y, bias, 0);
        if (m == 0 || Rows == 0) return;
        if (Columns == 0)
        {
            CsrKernelSupport.WriteBiasOnly(y, m, Rows, bias, activation);
            return;
        }
        var width = CsrKernelSupport.Width();
        if (m == 1)
        {
            // One row fills one lane of a tile: the by-row kernels read the same storage better.
            SparseRowKernels.MultiplyMany(this, x, m, y, bias, activation, threads, SparseRowKernels.BestVectorBits);
            return;
        }
        threads = CsrKernelSupport.UsefulThreads(threads, _values.LongLength * m);
        // Parts of whole blocks: every output has the same work.
        var blocks = (Rows + BlockRows - 1) / BlockRows;
        var parts = Math.Min(blocks, CsrKernelSupport.Parts(threads));
        var bounds = new int[parts + 1];
        for (var p = 0; p <= parts; p++) bounds[p] = Math.Min(Rows, (int)((long)p * blocks / parts) * BlockRows);
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        fixed (float* pv = _values)
        fixed (byte* po = _offsets)
        {
            var kernel = new Kernel(pv, po, Rows, _chunks, _chunkGroups * M, _chunkGroups * N, _rowSlots, bias.IsEmpty ? null : pb, activation, width);
            // Tiles of X's rows as wide as two vectors of the narrowest width that covers m, as for CSR.
            if (width >= 512 && m > 16) Run<Vector512Ops, Vector512<float>>(kernel, px, m, py, bounds, threads);
            else if (width >= 256 && m > 8) Run<Vector256Ops, Vector256<float>>(kernel, px, m, py, bounds, threads);
            else if (width >= 128) Run<Vector128Ops, Vector128<float>>(kernel, px, m, py, bounds, threads);
            else Run<ScalarOps, float>(kernel, px, m, py, bounds, threads);
        }
    }

    private void Run<TOps, TVector>(Kernel kernel, float* x, int m, float* y, int[] bounds, int threads)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = 2 * TOps.Count;
        CsrKernelSupport.ForEachTile(x, m, Columns, Columns, width, threads, bounds,
            (tile, t, start, end) => kernel.Tile<TOps, TVector>(tile, t * width, Math.Min(width, m - t * width), y, start, end));
    }

    private readonly struct Kernel(float* values, byte* offsets, int rows, int chunks, int chunkColumns, int chunkSlots,
        int rowSlots, float* bias, FusedActivation activation, int vectorBits)
    {
        /// <summary>
        /// One tile of X's rows (transposed, <c>2 * TOps.Count</c> lanes) by outputs [start, end), a multiple of 64
        /// from start: per block of 64 outputs, chunk by chunk, each output's kept weights of the chunk into two
        /// vectors of partial sums kept on the stack; then bias, activation, and the block transposed into Y.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Tile<TOps, TVector>(float* xt, int firstRow, int valid, float* y, int start, int end)
            where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var width = 2 * count;
            var sums = stackalloc float[BlockRows * width];
            for (var blockStart = start; blockStart < end; blockStart += BlockRows)
            {
                var height = Math.Min(BlockRows, rows - blockStart);
                var v = values + (long)blockStart * rowSlots;
                var o = offsets + (long)blockStart * rowSlots;
                for (var chunk = 0; chunk < chunks; chunk++)
                {
                    var slots = Math.Min(chunkSlots, rowSlots - chunk * chunkSlots);
                    var xChunk = xt + (long)chunk * chunkColumns * width;
                    for (var r = 0; r < height; r++, v += slots, o += slots)
                    {
                        var lanes = sums + r * width;
                        TVector sum0, sum1;
                        if (chunk == 0)
                        {
                            sum0 = TOps.Broadcast(bias != null ? bias[blockStart + r] : 0f);
                            sum1 = sum0;
                        }
                        else
                        {
                            sum0 = TOps.Load(lanes);
                            sum1 = TOps.Load(lanes + count);
                        }
                        Accumulate<TOps, TVector>(xChunk, v, o, slots, ref sum0, ref sum1);
                        if (chunk == chunks - 1)
                        {
                            sum0 = Activations.Activate<TOps, TVector>(sum0, activation);
                            sum1 = Activations.Activate<TOps, TVector>(sum1, activation);
                        }
                        TOps.Store(lanes, sum0);
                        TOps.Store(lanes + count, sum1);
                    }
                }
                MatrixTranspose.Transpose(sums, width, y + (long)firstRow * rows + blockStart, rows, height, valid, vectorBits >= 256);
            }
        }

        /// <summary>
        /// Adds <paramref name="slots"/> kept weights from v (their columns within the chunk from o) times the chunk's
        /// rows of X's tile into the two vectors of sums.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Accumulate<TOps, TVector>(float* xt, float* v, byte* o, int slots, ref TVector sum0, ref TVector sum1)
            where TOps : IVectorOps<TVector> where TVector : struct
        {
            var count = TOps.Count;
            var width = 2 * count;
            TVector acc0 = sum0, acc1 = sum1, acc2 = TOps.Zero, acc3 = TOps.Zero, acc4 = TOps.Zero, acc5 = TOps.Zero, acc6 = TOps.Zero, acc7 = TOps.Zero;
            var stop = v + slots;
            // Four weights per step into four pairs of sums: a multiply-add's latency is four cycles or more.
            for (; v + 4 <= stop; v += 4, o += 4)
            {
                var x0 = xt + (nint)o[0] * width;
                var x1 = xt + (nint)o[1] * width;
                var x2 = xt + (nint)o[2] * width;
                var x3 = xt + (nint)o[3] * width;
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
            for (; v < stop; v++, o++)
            {
                var w0 = TOps.Broadcast(v[0]);
                var x0 = xt + (nint)o[0] * width;
                acc0 = TOps.MultiplyAdd(w0, TOps.Load(x0), acc0);
                acc1 = TOps.MultiplyAdd(w0, TOps.Load(x0 + count), acc1);
            }
            sum0 = TOps.Add(TOps.Add(acc0, acc2), TOps.Add(acc4, acc6));
            sum1 = TOps.Add(TOps.Add(acc1, acc3), TOps.Add(acc5, acc7));
        }
    }
}
