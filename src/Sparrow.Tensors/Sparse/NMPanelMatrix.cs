using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// N:M sparsity (at most N kept in every group of M ≤ 8 consecutive columns) stored for a register-blocked kernel,
/// like a dense GEMM's packed B: outputs in panels of 16, and per panel, group and slot one vector of 16 values and
/// 16 one-byte positions. The kernel loads the M inputs of a group once per row of X and moves each output's input
/// into its lane with one permute, so up to 16 rows of X share every loaded weight and the work is N/M of a dense
/// product's multiply-adds. Where the formats by row (<see cref="NMSparseMatrix"/>) read weights once per row of X,
/// this one pays off from a few rows up; it is the 2:4 format for batches. The AVX-512 kernel needs 16-wide permutes;
/// elsewhere the shared by-row kernels run over the same storage.
/// </summary>
public sealed unsafe class NMPanelMatrix : ISparseMatrix, ISparseRowSource
{
    private const int Lanes = 16;

    private readonly float[] _values;
    private readonly byte[] _positions;
    private readonly int _groups;
    private readonly int _panels;

    private NMPanelMatrix(int rows, int columns, int n, int m)
    {
        Rows = rows;
        Columns = columns;
        N = n;
        M = m;
        _groups = (columns + m - 1) / m;
        _panels = (rows + Lanes - 1) / Lanes;
        var length = (long)_panels * _groups * n * Lanes;
        _values = new float[length];
        _positions = new byte[length];
    }

    public SparseFormat Format => SparseFormat.NM;

    public string Description => $"N:M {N}:{M} panels";

    public int Rows { get; }

    public int Columns { get; }

    public int N { get; }

    public int M { get; }

    public long StoredValues => _values.LongLength;

    public long SizeInBytes => _values.LongLength * sizeof(float) + _positions.LongLength;

    int ISparseRowSource.MaxRowEntries => _groups * N;

    long ISparseRowSource.RowCost(int row) => _groups * N + 4;

    /// <summary>Index of the value of output <paramref name="row"/>, group <paramref name="group"/>, slot <paramref name="slot"/>.</summary>
    private long Index(int row, int group, int slot) => (((long)(row / Lanes) * _groups + group) * N + slot) * Lanes + row % Lanes;

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
                    var index = matrix.Index(r, g, kept++);
                    matrix._values[index] = dense[i];
                    matrix._positions[index] = (byte)p;
                }
                // Unused slots keep value 0 at position 0, inside the group: they add nothing.
            }
        return matrix;
    }

    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
            for (var g = 0; g < _groups; g++)
                for (var s = 0; s < N; s++)
                {
                    // Unused slots hold zero at position 0, so adding every slot is exact.
                    var index = Index(r, g, s);
                    dense[(long)r * Columns + g * M + _positions[index]] += _values[index];
                }
        return dense;
    }

    int ISparseRowSource.DecodeRow(int row, int* columns, float* values)
    {
        var count = 0;
        for (var g = 0; g < _groups; g++)
            for (var s = 0; s < N; s++)
            {
                var index = Index(row, g, s);
                columns[count] = g * M + _positions[index];
                values[count++] = _values[index];
            }
        return count;
    }

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
        // The register-blocked kernel reads each group's inputs as one 4- or 8-wide vector, so it needs whole groups.
        if (bits < 512 || !Avx512F.IsSupported || M is not (4 or 8) || Columns % M != 0)
        {
            SparseRowKernels.MultiplyMany(this, x, m, y, bias, activation, threads, bits);
            return;
        }
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        fixed (float* pv = _values)
        fixed (byte* pp = _positions)
        {
            var kernel = new Kernel(px, m, Columns, py, Rows, bias.IsEmpty ? null : pb, activation, pv, pp, _groups, N);
            // Every panel has the same work, so equal ranges of panels; a few per thread so a delayed thread takes fewer.
            var parts = Math.Min(_panels, CsrKernelSupport.Parts(threads));
            var panels = _panels;
            if (M == 4) GemmParallel.For(parts, threads, part => kernel.Panels<Group4>((int)((long)part * panels / parts), (int)((long)(part + 1) * panels / parts)));
            else GemmParallel.For(parts, threads, part => kernel.Panels<Group8>((int)((long)part * panels / parts), (int)((long)(part + 1) * panels / parts)));
        }
    }

    private readonly struct Kernel(float* x, int m, int columns, float* y, int rows, float* bias, FusedActivation activation,
        float* values, byte* positions, int groups, int n)
    {
        public void Panels<TGroup>(int first, int end) where TGroup : IGroupWindow
        {
            for (var panel = first; panel < end; panel++)
            {
                var i = 0;
                for (; i + 16 <= m; i += 16) Block<Rows16, TGroup>(panel, i);
                if (m - i >= 8) { Block<Rows8, TGroup>(panel, i); i += 8; }
                if (m - i >= 4) { Block<Rows4, TGroup>(panel, i); i += 4; }
                for (; i < m; i++) Block<Rows1, TGroup>(panel, i);
            }
        }

        /// <summary>Y rows [i0, i0 + TRows.Count) by the 16 outputs of one panel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Block<TRows, TGroup>(int panel, int i0) where TRows : IRowCount where TGroup : IGroupWindow
        {
            var slots = (long)groups * n;
            // The sums go to the stack before any call (bias, activation, partial stores): every vector register is
            // caller-saved on x64, and the JIT keeps sums that are live across a call in memory inside the loop.
            var sums = stackalloc float[16 * Lanes];
            Accumulate<TRows, TGroup>(values + panel * slots * Lanes, positions + panel * slots * Lanes, x + (long)i0 * columns, columns, groups, n, sums);
            var outputs = Math.Min(Lanes, rows - panel * Lanes);
            var b = bias == null ? Vector512<float>.Zero : outputs == Lanes ? Vector512.Load(bias + panel * Lanes) : PartialLoad(bias + panel * Lanes, outputs);
            var target = y + (long)i0 * rows + panel * Lanes;
            for (var r = 0; r < TRows.Count; r++) Store(target + (long)r * rows, Vector512.Load(sums + r * Lanes), b, outputs);
        }

        /// <summary>Sums of TRows rows of X (from xRows, row stride <paramref name="stride"/>) by one panel's 16 outputs, into sums[row * 16 + lane].</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Accumulate<TRows, TGroup>(float* v, byte* p, float* xRows, long stride, int groups, int n, float* sums)
            where TRows : IRowCount where TGroup : IGroupWindow
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            Vector512<float> a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
            for (var g = 0; g < groups; g++)
            {
                var xg = xRows + g * TGroup.Length;
                for (var s = 0; s < n; s++, v += Lanes, p += Lanes)
                {
                    var w = Vector512.Load(v);
                    var index = Avx512F.ConvertToVector512Int32(Vector128.Load(p));
                    a0 = Step<TGroup>(a0, w, index, xg);
                    if (TRows.Count > 1)
                    {
                        a1 = Step<TGroup>(a1, w, index, xg + stride);
                        a2 = Step<TGroup>(a2, w, index, xg + 2 * stride);
                        a3 = Step<TGroup>(a3, w, index, xg + 3 * stride);
                    }
                    if (TRows.Count > 4)
                    {
                        a4 = Step<TGroup>(a4, w, index, xg + 4 * stride);
                        a5 = Step<TGroup>(a5, w, index, xg + 5 * stride);
                        a6 = Step<TGroup>(a6, w, index, xg + 6 * stride);
                        a7 = Step<TGroup>(a7, w, index, xg + 7 * stride);
                    }
                    if (TRows.Count > 8)
                    {
                        a8 = Step<TGroup>(a8, w, index, xg + 8 * stride);
                        a9 = Step<TGroup>(a9, w, index, xg + 9 * stride);
                        a10 = Step<TGroup>(a10, w, index, xg + 10 * stride);
                        a11 = Step<TGroup>(a11, w, index, xg + 11 * stride);
                        a12 = Step<TGroup>(a12, w, index, xg + 12 * stride);
                        a13 = Step<TGroup>(a13, w, index, xg + 13 * stride);
                        a14 = Step<TGroup>(a14, w, index, xg + 14 * stride);
                        a15 = Step<TGroup>(a15, w, index, xg + 15 * stride);
                    }
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

        /// <summary>acc += w · (each lane's input of the group): the group's inputs in the low lanes of a vector, picked per lane by its position.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Step<TGroup>(Vector512<float> acc, Vector512<float> w, Vector512<int> index, float* xg) where TGroup : IGroupWindow =>
            Vector512.FusedMultiplyAdd(w, Avx512F.PermuteVar16x32(TGroup.Load(xg), index), acc);

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

    /// <summary>Loads one group's inputs into the low lanes of a vector (the other lanes are never selected).</summary>
    private interface IGroupWindow
    {
        static abstract int Length { get; }

        static abstract Vector512<float> Load(float* source);
    }

    private readonly struct Group4 : IGroupWindow
    {
        public static int Length => 4;

        public static Vector512<float> Load(float* source) => Vector128.Load(source).ToVector256Unsafe().ToVector512Unsafe();
    }

    private readonly struct Group8 : IGroupWindow
    {
        public static int Length => 8;

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
