using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// N:M sparsity (at most N kept in every group of M ≤ 8 consecutive columns) stored for a register-blocked kernel,
/// like a dense GEMM's packed B: outputs in panels of 16, and per panel, group and slot one vector of 16 values and
/// 16 one-byte positions (stored four slots to a 32-bit word per lane). The kernel loads the M inputs of a group once
/// per row of X and moves each output's input into its lane with one permute, so up to 16 rows of X share every loaded weight and the work is N/M of a dense
/// product's multiply-adds. Where the formats by row (<see cref="NMSparseMatrix"/>) read weights once per row of X,
/// this one pays off from a few rows up; it is the 2:4 format for batches. The AVX-512 kernel needs 16-wide permutes;
/// elsewhere the shared by-row kernels run over the same storage.
/// </summary>
public sealed unsafe class NMPanelMatrix : ISparseMatrix, ISparseRowSource
{
    private const int Lanes = 16;

    /// <summary>How many groups ahead the kernel fetches a panel's weights and positions.</summary>
    private const int PrefetchGroups = 16;

    /// <summary>Elements of X (256 KB) up to which each thread packs X for itself.</summary>
    private const long PerThreadPackLimit = 64 * 1024;

    // Aligned: the kernel loads 16 values or 16 position words at a time.
    private readonly AlignedArray<float> _values;
    private readonly AlignedArray<byte> _positions;
    private readonly int _groups;
    private readonly int _panels;
    private readonly int _quads;

    private NMPanelMatrix(int rows, int columns, int n, int m)
    {
        Rows = rows;
        Columns = columns;
        N = n;
        M = m;
        _groups = (columns + m - 1) / m;
        _panels = (rows + Lanes - 1) / Lanes;
        var length = (long)_panels * _groups * n * Lanes;
        _values = new AlignedArray<float>(length);
        // Positions four (group, slot) items at a time: per panel and lane one 32-bit word holds the positions of
        // items 4q to 4q + 3 (slots of a group, then the next group), one byte each, so that the kernel turns a word
        // into a permute index by a shift (a permute reads only the low four bits of its index) instead of widening
        // bytes, which takes the permute unit's time on some cores.
        _quads = (_groups * n + 3) / 4;
        _positions = new AlignedArray<byte>((long)_panels * _quads * 4 * Lanes);
    }

    /// <inheritdoc/>
    public SparseFormat Format => SparseFormat.NM;

    /// <inheritdoc/>
    public string Description => $"N:M {N}:{M} panels";

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <summary>Most values kept per group.</summary>
    public int N { get; }

    /// <summary>Group length along the input features.</summary>
    public int M { get; }

    /// <inheritdoc/>
    public long StoredValues => _values.Length;

    /// <inheritdoc/>
    public long SizeInBytes => (long)_values.Length * sizeof(float) + _positions.Length;

    int ISparseRowSource.MaxRowEntries => _groups * N;

    long ISparseRowSource.RowCost(int row) => _groups * N + 4;

    /// <summary>Index of the value of output <paramref name="row"/>, group <paramref name="group"/>, slot <paramref name="slot"/>.</summary>
    private long Index(int row, int group, int slot) => (((long)(row / Lanes) * _groups + group) * N + slot) * Lanes + row % Lanes;

    /// <summary>Index of the position of output <paramref name="row"/>, group <paramref name="group"/>, slot <paramref name="slot"/>.</summary>
    private long PositionIndex(int row, int group, int slot)
    {
        var item = group * N + slot;
        return ((long)(row / Lanes) * _quads + item / 4) * 4 * Lanes + row % Lanes * 4 + item % 4;
    }

    /// <summary>
    /// Builds from dense row-major [rows, columns] values; kept entries are those where <paramref name="mask"/> is
    /// true, or the non-zeros without a mask. A group keeping more than <paramref name="n"/> is refused with an
    /// <see cref="ArgumentException"/> that names it.
    /// </summary>
    public static NMPanelMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, int n, int m, ReadOnlySpan<bool> mask = default)
    {
        CsrMatrix.CheckDense(dense.Length, rows, columns, mask.Length);
        if (m < 1 || m > 8) throw new ArgumentOutOfRangeException(nameof(m), $"M must be 1 to 8 for the panel format, not {m}.");
        if (n < 1 || n > m) throw new ArgumentOutOfRangeException(nameof(n), $"N must be 1 to M ({m}), not {n}.");
        var matrix = new NMPanelMatrix(rows, columns, n, m);
        for (var r = 0; r < rows; r++)
            for (var g = 0; g < matrix._groups; g++)
            {
                var kept = 0;
                for (var p = 0; p < m && g * m + p < columns; p++)
                {
                    var i = r * columns + g * m + p;
                    if (!CsrMatrix.IsKept(dense, mask, i)) continue;
                    if (kept == n)
                        throw new ArgumentException(
                            $"the matrix is not {n}:{m} sparse: row {r}, group {g} (columns {g * m} to {Math.Min(columns, g * m + m) - 1}) keeps more than {n} values.",
                            nameof(dense));
                    matrix._values[matrix.Index(r, g, kept)] = dense[i];
                    matrix._positions[matrix.PositionIndex(r, g, kept++)] = (byte)p;
                }
                // Unused slots keep value 0 at position 0, inside the group: they add nothing.
            }
        return matrix;
    }

    /// <inheritdoc/>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
            for (var g = 0; g < _groups; g++)
                for (var s = 0; s < N; s++)
                {
                    // Unused slots hold zero at position 0, so adding every slot is exact.
                    dense[(long)r * Columns + g * M + _positions[PositionIndex(r, g, s)]] += _values[Index(r, g, s)];
                }
        return dense;
    }

    int ISparseRowSource.DecodeRow(int row, int* columns, float* values)
    {
        var count = 0;
        for (var g = 0; g < _groups; g++)
            for (var s = 0; s < N; s++)
            {
                columns[count] = g * M + _positions[PositionIndex(row, g, s)];
                values[count++] = _values[Index(row, g, s)];
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
        var bits = SparseRowKernels.BestVectorBits;
        // The register-blocked kernel is specialised for 2:4 and 4:8 and reads each group's inputs as one vector, so it
        // needs whole groups; other patterns and shapes take the by-row kernels over the same storage.
        if (bits < 512 || !Avx512F.IsSupported || (N, M) is not ((2, 4) or (4, 8)) || Columns % M != 0)
        {
            SparseRowKernels.MultiplyMany(this, x, m, y, bias, activation, threads, bits);
            return;
        }
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        {
            threads = CsrKernelSupport.UsefulThreads(threads, (long)_values.Length * m);
            // Every panel has the same work, so equal ranges of panels, claimed a few at a time so that a delayed
            // thread takes fewer. A small X is packed by each thread for itself (packed by one core and read by
            // another, it crossed between the cores, and 2:4 at 384 x 1,536 and 8 rows ran slower on two threads than
            // on one); a large one is packed once, by all threads, as copying it per thread would cost more.
            var parts = Math.Min(_panels, CsrKernelSupport.Parts(threads));
            var panels = _panels;
            float* xs = px, ys = py, b = bias.IsEmpty ? null : pb;
            var shared = (long)m * Columns > PerThreadPackLimit ? PackX(px, m, threads) : null;
            CsrKernelSupport.ClaimParts(parts, threads,
                () => new Kernel(shared != null ? shared : PackX(xs, m, 1), m, ys, Rows, b, activation, _values.Pointer, _positions.Pointer, _groups, N, M),
                (kernel, part) =>
                {
                    int first = (int)((long)part * panels / parts), end = (int)((long)(part + 1) * panels / parts);
                    if (M == 4) kernel.Panels<Group4>(first, end);
                    else kernel.Panels<Group8>(first, end);
                });
        }
        // The kernel holds pointers into the pinned arrays, not the arrays.
        GC.KeepAlive(this);
    }

    /// <summary>
    /// X [m, Columns] repacked by blocks of 16 rows (the last block as tall as the rows left): within a block, group by
    /// group, each row's M inputs side by side. A row's inputs of a group are then at a fixed offset from one pointer,
    /// so the kernel addresses all rows of a block with no arithmetic. In the calling thread's scratch (blocks packed
    /// by up to <paramref name="threads"/> threads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float* PackX(float* x, int m, int threads)
    {
        var packed = GemmScratch.TransposedX((long)m * Columns);
        int columns = Columns, groupLength = M, groups = _groups, blocks = (m + 15) / 16;
        GemmParallel.For(blocks, threads, block =>
        {
            var height = Math.Min(16, m - block * 16);
            var target = packed + (long)block * 16 * columns;
            var source = x + (long)block * 16 * columns;
            // One vector per group and row: a call to a general copy of 16 or 32 bytes cost more than the kernel's
            // work on them at MiniLM's shapes.
            if (groupLength == 4)
                for (var g = 0; g < groups; g++)
                    for (var r = 0; r < height; r++, target += 4)
                        Vector128.Store(Vector128.Load(source + (long)r * columns + g * 4), target);
            else if (groupLength == 8)
                for (var g = 0; g < groups; g++)
                    for (var r = 0; r < height; r++, target += 8)
                        Vector256.Store(Vector256.Load(source + (long)r * columns + g * 8), target);
            else
                for (var g = 0; g < groups; g++)
                    for (var r = 0; r < height; r++, target += groupLength)
                        new ReadOnlySpan<float>(source + (long)r * columns + g * groupLength, groupLength).CopyTo(new Span<float>(target, groupLength));
        });
        return packed;
    }

    private readonly struct Kernel(float* x, int m, float* y, int rows, float* bias, FusedActivation activation,
        float* values, byte* positions, int groups, int n, int groupLength)
    {
        public void Panels<TGroup>(int first, int end) where TGroup : IGroupWindow
        {
            for (var panel = first; panel < end; panel++)
                for (var block = 0; block * 16 < m; block++)
                {
                    // Rows of the block in register blocks of 16, 8, 4 and 1.
                    int height = Math.Min(16, m - block * 16), i = 0;
                    if (height == 16) { Block<Rows16, TGroup>(panel, block, height, 0); continue; }
                    if (height - i >= 8) { Block<Rows8, TGroup>(panel, block, height, i); i += 8; }
                    if (height - i >= 4) { Block<Rows4, TGroup>(panel, block, height, i); i += 4; }
                    for (; i < height; i++) Block<Rows1, TGroup>(panel, block, height, i);
                }
        }

        /// <summary>Rows [first, first + TRows.Count) of a block of X (of <paramref name="height"/> rows) by the 16 outputs of one panel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Block<TRows, TGroup>(int panel, int block, int height, int first) where TRows : IRowCount where TGroup : IGroupWindow
        {
            var i0 = block * 16 + first;
            var xBlock = x + (long)block * 16 * groups * groupLength + first * groupLength;
            var slots = (long)groups * n;
            // The sums go to the stack before any call (bias, activation, partial stores): every vector register is
            // caller-saved on x64, and the JIT keeps sums that are live across a call in memory inside the loop.
            var sums = stackalloc float[16 * Lanes];
            Accumulate<TRows, TGroup>(values + panel * slots * Lanes, (int*)(positions + panel * ((slots + 3) / 4) * 4 * Lanes), xBlock, height * groupLength, groups, sums);
            var outputs = Math.Min(Lanes, rows - panel * Lanes);
            var b = bias == null ? Vector512<float>.Zero : outputs == Lanes ? Vector512.Load(bias + panel * Lanes) : PartialLoad(bias + panel * Lanes, outputs);
            var target = y + (long)i0 * rows + panel * Lanes;
            for (var r = 0; r < TRows.Count; r++) Store(target + (long)r * rows, Vector512.Load(sums + r * Lanes), b, outputs);
        }

        /// <summary>
        /// Sums of TRows rows of packed X by one panel's 16 outputs, into sums[row * 16 + lane]. Row r's inputs of
        /// group g are at xRows + g * groupStride + r * M.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Accumulate<TRows, TGroup>(float* v, int* p, float* xRows, int groupStride, int groups, float* sums)
            where TRows : IRowCount where TGroup : IGroupWindow
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            Vector512<float> a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
            for (var g = 0; g < groups; g++, v += TGroup.Slots * Lanes)
            {
                var xg = xRows + (long)g * groupStride;
                // The weights stream from memory once a matrix outgrows the caches (an LLM's layers); fetching them
                // PrefetchGroups groups ahead kept 2:4 at 4096 x 4096 and 8 to 32 rows from waiting on them
                // (1.5-1.6x faster there), and costs a few instructions per group where they are cached.
                Sse.Prefetch0(v + PrefetchGroups * TGroup.Slots * Lanes);
                Sse.Prefetch0(v + PrefetchGroups * TGroup.Slots * Lanes + Lanes);
                if (TGroup.Slots == 4)
                {
                    Sse.Prefetch0(v + PrefetchGroups * TGroup.Slots * Lanes + 2 * Lanes);
                    Sse.Prefetch0(v + PrefetchGroups * TGroup.Slots * Lanes + 3 * Lanes);
                }
                Sse.Prefetch0(p + (long)((g + PrefetchGroups) * TGroup.Slots / 4) * Lanes);
                // Every slot's weights and positions once per group; each row's inputs loaded once for all slots.
                var w0 = Vector512.Load(v);
                var w1 = Vector512.Load(v + Lanes);
                // Positions: one word per lane holds four slots' bytes (two groups of 2:4, one of 4:8); a shift brings
                // each to the low bits, all a permute reads.
                var i0 = TGroup.Slots == 4
                    ? Vector512.Load(p + (long)g * Lanes)
                    : Vector512.ShiftRightLogical(Vector512.Load(p + (long)(g >> 1) * Lanes), (g & 1) * 16);
                var i1 = Vector512.ShiftRightLogical(i0, 8);
                Vector512<float> w2 = default, w3 = default;
                Vector512<int> i2 = default, i3 = default;
                if (TGroup.Slots == 4)
                {
                    w2 = Vector512.Load(v + 2 * Lanes);
                    w3 = Vector512.Load(v + 3 * Lanes);
                    i2 = Vector512.ShiftRightLogical(i0, 16);
                    i3 = Vector512.ShiftRightLogical(i0, 24);
                }
                a0 = Step<TGroup>(a0, xg, w0, w1, w2, w3, i0, i1, i2, i3);
                if (TRows.Count > 1)
                {
                    a1 = Step<TGroup>(a1, xg + TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a2 = Step<TGroup>(a2, xg + 2 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a3 = Step<TGroup>(a3, xg + 3 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                }
                if (TRows.Count > 4)
                {
                    a4 = Step<TGroup>(a4, xg + 4 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a5 = Step<TGroup>(a5, xg + 5 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a6 = Step<TGroup>(a6, xg + 6 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a7 = Step<TGroup>(a7, xg + 7 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                }
                if (TRows.Count > 8)
                {
                    a8 = Step<TGroup>(a8, xg + 8 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a9 = Step<TGroup>(a9, xg + 9 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a10 = Step<TGroup>(a10, xg + 10 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a11 = Step<TGroup>(a11, xg + 11 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a12 = Step<TGroup>(a12, xg + 12 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a13 = Step<TGroup>(a13, xg + 13 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a14 = Step<TGroup>(a14, xg + 14 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                    a15 = Step<TGroup>(a15, xg + 15 * TGroup.Length, w0, w1, w2, w3, i0, i1, i2, i3);
                }
            }
            a0.Store(sums);
            if (TRows.Count > 1)
            {
                a1.Store(sums + Lanes);
                a2.Store(sums + 2 * Lanes);
                a3.Store(sums + 3 * Lanes);
            }
            if (TRows.Count > 4)
            {
                a4.Store(sums + 4 * Lanes);
                a5.Store(sums + 5 * Lanes);
                a6.Store(sums + 6 * Lanes);
                a7.Store(sums + 7 * Lanes);
            }
            if (TRows.Count > 8)
            {
                a8.Store(sums + 8 * Lanes);
                a9.Store(sums + 9 * Lanes);
                a10.Store(sums + 10 * Lanes);
                a11.Store(sums + 11 * Lanes);
                a12.Store(sums + 12 * Lanes);
                a13.Store(sums + 13 * Lanes);
                a14.Store(sums + 14 * Lanes);
                a15.Store(sums + 15 * Lanes);
            }
        }

        /// <summary>
        /// acc += Σ over slots of w · (each lane's input of the group): the group's inputs are loaded into the low lanes
        /// of one vector and picked per lane by the slot's position.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Step<TGroup>(Vector512<float> acc, float* xg,
            Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3,
            Vector512<int> i0, Vector512<int> i1, Vector512<int> i2, Vector512<int> i3) where TGroup : IGroupWindow
        {
            var window = TGroup.Load(xg);
            acc = Vector512.FusedMultiplyAdd(w0, Avx512F.PermuteVar16x32(window, i0), acc);
            acc = Vector512.FusedMultiplyAdd(w1, Avx512F.PermuteVar16x32(window, i1), acc);
            if (TGroup.Slots == 4)
            {
                acc = Vector512.FusedMultiplyAdd(w2, Avx512F.PermuteVar16x32(window, i2), acc);
                acc = Vector512.FusedMultiplyAdd(w3, Avx512F.PermuteVar16x32(window, i3), acc);
            }
            return acc;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector512<float> PartialLoad(float* source, int count)
        {
            var buffer = stackalloc float[Lanes];
            for (var k = 0; k < count; k++) buffer[k] = source[k];
            for (var k = count; k < Lanes; k++) buffer[k] = 0f;
            return Vector512.Load(buffer);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(float* target, Vector512<float> sum, Vector512<float> b, int outputs)
        {
            var result = Activations.Activate<Vector512Ops, Vector512<float>>(sum + b, activation);
            if (outputs == Lanes) result.Store(target);
            else PartialStore(target, result, outputs);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void PartialStore(float* target, Vector512<float> result, int outputs)
        {
            var buffer = stackalloc float[Lanes];
            result.Store(buffer);
            for (var k = 0; k < outputs; k++) target[k] = buffer[k];
        }
    }

    /// <summary>
    /// A pattern the register-blocked kernel is specialised for (2:4 or 4:8): the group's length, its kept slots, and
    /// how to load its inputs into the low lanes of a vector (the other lanes are never selected).
    /// </summary>
    private interface IGroupWindow
    {
        static abstract int Length { get; }

        static abstract int Slots { get; }

        static abstract Vector512<float> Load(float* source);
    }

    private readonly struct Group4 : IGroupWindow
    {
        public static int Length => 4;

        public static int Slots => 2;

        public static Vector512<float> Load(float* source) => Vector128.Load(source).ToVector256Unsafe().ToVector512Unsafe();
    }

    private readonly struct Group8 : IGroupWindow
    {
        public static int Length => 8;

        public static int Slots => 4;

        public static Vector512<float> Load(float* source) => Vector256.Load(source).ToVector512Unsafe();
    }

    /// <summary>Rows of X per register block, as a type so that the JIT drops the unused accumulators.</summary>
    private interface IRowCount
    {
        static abstract int Count { get; }
    }

    private readonly struct Rows16 : IRowCount
    {
        public static int Count => 16;
    }

    private readonly struct Rows8 : IRowCount
    {
        public static int Count => 8;
    }

    private readonly struct Rows4 : IRowCount
    {
        public static int Count => 4;
    }

    private readonly struct Rows1 : IRowCount
    {
        public static int Count => 1;
    }
}
