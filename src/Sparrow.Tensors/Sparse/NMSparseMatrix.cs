using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// N:M structured sparsity: each row is cut into groups of M consecutive input features (the last group may be
/// shorter) and at most N of each group are kept. Every group stores exactly N values (zeros pad groups that keep
/// fewer) and the position of each value inside its group, packed in 1, 2 or 4 bits.
/// </summary>
public sealed unsafe class NMSparseMatrix : ISparseMatrix, ISparseRowSource
{
    private readonly float[] _values;      // [Rows, GroupsPerRow, N]
    private readonly ulong[] _positions;   // per row, PositionBits per stored value, rows start on whole words
    private readonly int _positionBits;
    private readonly int _groupsPerRow;
    private readonly int _positionWordsPerRow;

    private NMSparseMatrix(int rows, int columns, int n, int m)
    {
        Rows = rows;
        Columns = columns;
        N = n;
        M = m;
        _groupsPerRow = (columns + m - 1) / m;
        _positionBits = m <= 2 ? 1 : m <= 4 ? 2 : 4;
        _positionWordsPerRow = (int)(((long)_groupsPerRow * n * _positionBits + 63) / 64);
        _values = new float[(long)rows * _groupsPerRow * n];
        _positions = new ulong[(long)rows * _positionWordsPerRow];
    }

    /// <inheritdoc/>
    public SparseFormat Format => SparseFormat.NM;

    /// <inheritdoc/>
    public string Description => $"N:M {N}:{M}";

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
    public long SizeInBytes => _values.LongLength * sizeof(float) + _positions.LongLength * sizeof(ulong);

    int ISparseRowSource.MaxRowEntries => _groupsPerRow * N;

    long ISparseRowSource.RowCost(int row) => _groupsPerRow * N + 4;

    /// <summary>
    /// Builds the format from dense row-major [rows, columns] values. Kept entries are those where
    /// <paramref name="mask"/> is true, or the non-zero values without a mask. A group keeping more than
    /// <paramref name="n"/> entries is refused with an <see cref="ArgumentException"/> that names it.
    /// </summary>
    public static NMSparseMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, int n, int m, ReadOnlySpan<bool> mask = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (m < 1 || m > 16) throw new ArgumentOutOfRangeException(nameof(m), $"M must be 1 to 16, not {m}.");
        if (n < 1 || n > m) throw new ArgumentOutOfRangeException(nameof(n), $"N must be 1 to M ({m}), not {n}.");
        if (dense.Length != (long)rows * columns)
            throw new ArgumentException($"dense has {dense.Length} values; {rows}x{columns} needs {(long)rows * columns}.", nameof(dense));
        if (!mask.IsEmpty && mask.Length != dense.Length)
            throw new ArgumentException($"mask has {mask.Length} values; expected {dense.Length}.", nameof(mask));

        var matrix = new NMSparseMatrix(rows, columns, n, m);
        for (var r = 0; r < rows; r++)
        {
            var row = dense.Slice(r * columns, columns);
            var rowMask = mask.IsEmpty ? default : mask.Slice(r * columns, columns);
            for (var g = 0; g < matrix._groupsPerRow; g++)
            {
                var start = g * m;
                var length = Math.Min(m, columns - start);
                var slot = (r * matrix._groupsPerRow + g) * n;
                var kept = 0;
                for (var p = 0; p < length; p++)
                {
                    var keep = rowMask.IsEmpty ? row[start + p] != 0f : rowMask[start + p];
                    if (!keep) continue;
                    if (kept == n)
                    {
                        var found = 0;
                        for (var q = 0; q < length; q++)
                            if (rowMask.IsEmpty ? row[start + q] != 0f : rowMask[start + q]) found++;
                        throw new ArgumentException(
                            $"the matrix is not {n}:{m} sparse: row {r}, group {g} (columns {start} to {start + length - 1}) keeps {found} values; at most {n} are allowed.",
                            nameof(dense));
                    }
                    matrix._values[slot + kept] = row[start + p];
                    matrix.SetPosition(r, g * n + kept, p);
                    kept++;
                }
                // Padding slots keep value 0 at position 0, which is inside the group and adds nothing.
            }
        }
        return matrix;
    }

    /// <summary>Whether at most <paramref name="n"/> entries are kept in every group of <paramref name="m"/> columns (mask, or non-zeros without one).</summary>
    public static bool Follows(ReadOnlySpan<float> dense, int rows, int columns, int n, int m, ReadOnlySpan<bool> mask = default)
    {
        if (m < 1 || n < 1) return false;
        for (var r = 0; r < rows; r++)
            for (var start = 0; start < columns; start += m)
            {
                var kept = 0;
                var end = Math.Min(columns, start + m);
                for (var c = start; c < end; c++)
                {
                    var i = r * columns + c;
                    if (mask.IsEmpty ? dense[i] != 0f : mask[i]) kept++;
                }
                if (kept > n) return false;
            }
        return true;
    }

    private void SetPosition(int row, int slotInRow, int position)
    {
        var bit = (long)slotInRow * _positionBits;
        _positions[(long)row * _positionWordsPerRow + bit / 64] |= (ulong)position << (int)(bit % 64);
    }

    /// <inheritdoc/>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
            for (var g = 0; g < _groupsPerRow; g++)
                for (var k = 0; k < N; k++)
                {
                    var slot = g * N + k;
                    var value = _values[((long)r * _groupsPerRow + g) * N + k];
                    // Padding slots hold +0 at position 0; skipping +0 keeps a real value stored at that position.
                    if (BitConverter.SingleToInt32Bits(value) == 0) continue;
                    dense[(long)r * Columns + g * M + Position(r, slot)] = value;
                }
        return dense;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Position(int row, int slotInRow)
    {
        var bit = (long)slotInRow * _positionBits;
        return (int)(_positions[(long)row * _positionWordsPerRow + bit / 64] >> (int)(bit % 64)) & ((1 << _positionBits) - 1);
    }

    int ISparseRowSource.DecodeRow(int row, int* columns, float* values)
    {
        var count = _groupsPerRow * N;
        fixed (float* allValues = _values)
        fixed (ulong* words = _positions)
        {
            var source = allValues + (long)row * count;
            // Walks the packed positions with a running shift: no divisions in this loop, it runs once per stored value.
            var word = words + (long)row * _positionWordsPerRow - 1;
            int bits = _positionBits, fieldMask = (1 << bits) - 1, n = N, m = M, groups = _groupsPerRow;
            ulong current = 0;
            var shift = 64;
            var slot = 0;
            for (int g = 0, groupStart = 0; g < groups; g++, groupStart += m)
                for (var k = 0; k < n; k++, slot++, shift += bits)
                {
                    if (shift == 64)
                    {
                        current = *++word;
                        shift = 0;
                    }
                    columns[slot] = groupStart + ((int)(current >> shift) & fieldMask);
                    values[slot] = source[slot];
                }
        }
        return count;
    }

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads) =>
        Multiply(x, m, y, bias, activation, threads, SparseRowKernels.BestVectorBits);

    /// <summary>As <see cref="Multiply(ReadOnlySpan{float}, int, Span{float}, ReadOnlySpan{float}, FusedActivation, int)"/> with the vector width forced (512, 256, 128 or 0 for scalar), for tests.</summary>
    internal void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads, int vectorBits)
    {
        SparseRowKernels.CheckArguments(this, x, m, y, bias, Math.Min(vectorBits, 512));
        if (vectorBits > SparseRowKernels.BestVectorBits) vectorBits = SparseRowKernels.BestVectorBits;
        if (m == 0 || Rows == 0) return;
        if (m > 1)
        {
            var bits = vectorBits == 0 ? 0 : Math.Min(vectorBits, m <= 4 ? 128 : m <= 8 ? 256 : 512);
            // Up to two vectors of X rows: positions are decoded inside the multiply loop, with no scratch row.
            switch (bits)
            {
                case 512 when m <= 32: MultiplyFew<Vector512Ops, Vector512<float>>(x, m, y, bias, activation, threads); return;
                case 256 when m <= 16: MultiplyFew<Vector256Ops, Vector256<float>>(x, m, y, bias, activation, threads); return;
                case 128 when m <= 8: MultiplyFew<Vector128Ops, Vector128<float>>(x, m, y, bias, activation, threads); return;
            }
            SparseRowKernels.MultiplyMany(this, x, m, y, bias, activation, threads, vectorBits);
            return;
        }
        switch (vectorBits)
        {
            case 512 when Avx2.IsSupported: MultiplyVectorGather(x, y, bias, activation, threads); break;
            case 512: MultiplyVector<Vector512Ops, Vector512<float>>(x, y, bias, activation, threads); break;
            case 256: MultiplyVector<Vector256Ops, Vector256<float>>(x, y, bias, activation, threads); break;
            case 128: MultiplyVector<Vector128Ops, Vector128<float>>(x, y, bias, activation, threads); break;
            default: MultiplyVector<ScalarOps, float>(x, y, bias, activation, threads); break;
        }
    }

    private void MultiplyFew<TOps, TVector>(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        int columns = Columns, width = TOps.Count;
        var padded = m <= width ? width : 2 * width;
        // xt[c, i] = x[i, c], padded with zeros to one or two whole vectors.
        var xt = new float[Math.Max(1, columns * padded)];
        for (var c = 0; c < columns; c++)
            for (var i = 0; i < m; i++) xt[c * padded + i] = x[i * columns + c];
        fixed (float* px = xt)
        fixed (float* py = y)
        fixed (float* pb = bias)
        fixed (float* pv = _values)
        fixed (ulong* pp = _positions)
        {
            nint xAddress = (nint)px, yAddress = (nint)py, biasAddress = (nint)pb, valuesAddress = (nint)pv, positionsAddress = (nint)pp;
            var hasBias = !bias.IsEmpty;
            SparseRowKernels.RunOverRows(this, m, threads, (r0, r1) =>
                MultiplyFewRange<TOps, TVector>((float*)xAddress, m, (float*)yAddress, hasBias ? (float*)biasAddress : null, activation,
                    (float*)valuesAddress, (ulong*)positionsAddress, r0, r1));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MultiplyFewRange<TOps, TVector>(float* xt, int m, float* y, float* bias, FusedActivation activation,
        float* allValues, ulong* allPositions, int r0, int r1)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        int width = TOps.Count, padded = m <= width ? width : 2 * width, rows = Rows, n = N, groupLength = M, groups = _groupsPerRow;
        int bits = _positionBits, fieldMask = (1 << bits) - 1, pairedSlots = (n & 1) == 0 ? n : 0;
        var accumulators = stackalloc float[2 * width];
        for (var r = r0; r < r1; r++)
        {
            if (padded == width)
            {
                MultiplyFewRowOneVector<TOps, TVector>(xt, m, y, bias, allValues, allPositions, r, accumulators);
                continue;
            }
            var values = allValues + (long)r * groups * n;
            var word = allPositions + (long)r * _positionWordsPerRow - 1;
            ulong current = 0;
            var shift = 64;
            TVector a0 = TOps.Zero, a1 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero;
            var slot = 0;
            for (int g = 0, groupStart = 0; g < groups; g++, groupStart += groupLength)
            {
                var k = 0;
                // Two stored values per step into separate accumulators, so consecutive multiply-adds are independent.
                // Only for even N: then every pair starts on a multiple of 2·bits and stays inside one word.
                for (; k + 2 <= pairedSlots; k += 2, slot += 2, shift += 2 * bits)
                {
                    if (shift == 64)
                    {
                        current = *++word;
                        shift = 0;
                    }
                    // 2·bits divides 64 for bits 1, 2 and 4, so two fields never straddle a word.
                    var p = xt + (long)(groupStart + ((int)(current >> shift) & fieldMask)) * padded;
                    var q = xt + (long)(groupStart + ((int)(current >> (shift + bits)) & fieldMask)) * padded;
                    var w0 = TOps.Broadcast(values[slot]);
                    var w1 = TOps.Broadcast(values[slot + 1]);
                    a0 = TOps.MultiplyAdd(w0, TOps.Load(p), a0);
                    a1 = TOps.MultiplyAdd(w0, TOps.Load(p + width), a1);
                    b0 = TOps.MultiplyAdd(w1, TOps.Load(q), b0);
                    b1 = TOps.MultiplyAdd(w1, TOps.Load(q + width), b1);
                }
                for (; k < n; k++, slot++, shift += bits)
                {
                    if (shift == 64)
                    {
                        current = *++word;
                        shift = 0;
                    }
                    var p = xt + (long)(groupStart + ((int)(current >> shift) & fieldMask)) * padded;
                    var w0 = TOps.Broadcast(values[slot]);
                    a0 = TOps.MultiplyAdd(w0, TOps.Load(p), a0);
                    a1 = TOps.MultiplyAdd(w0, TOps.Load(p + width), a1);
                }
            }
            TOps.Store(accumulators, TOps.Add(a0, b0));
            TOps.Store(accumulators + width, TOps.Add(a1, b1));
            var b = bias == null ? 0f : bias[r];
            for (var i = 0; i < m; i++) y[(long)i * rows + r] = accumulators[i] + b;
        }
        SparseRowKernels.Finish<TOps, TVector>(y, m, rows, r0, r1, bias, activation);
    }

    /// <summary>One output row when all rows of X fit one vector: each stored weight costs one multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MultiplyFewRowOneVector<TOps, TVector>(float* xt, int m, float* y, float* bias, float* allValues, ulong* allPositions, int r, float* accumulators)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        int width = TOps.Count, n = N, groupLength = M, groups = _groupsPerRow;
        int bits = _positionBits, fieldMask = (1 << bits) - 1, pairedSlots = (n & 1) == 0 ? n : 0;
        var values = allValues + (long)r * groups * n;
        var word = allPositions + (long)r * _positionWordsPerRow - 1;
        ulong current = 0;
        var shift = 64;
        TVector a0 = TOps.Zero, b0 = TOps.Zero;
        var slot = 0;
        for (int g = 0, groupStart = 0; g < groups; g++, groupStart += groupLength)
        {
            var k = 0;
            for (; k + 2 <= pairedSlots; k += 2, slot += 2, shift += 2 * bits)
            {
                if (shift == 64)
                {
                    current = *++word;
                    shift = 0;
                }
                a0 = TOps.MultiplyAdd(TOps.Broadcast(values[slot]), TOps.Load(xt + (long)(groupStart + ((int)(current >> shift) & fieldMask)) * width), a0);
                b0 = TOps.MultiplyAdd(TOps.Broadcast(values[slot + 1]), TOps.Load(xt + (long)(groupStart + ((int)(current >> (shift + bits)) & fieldMask)) * width), b0);
            }
            for (; k < n; k++, slot++, shift += bits)
            {
                if (shift == 64)
                {
                    current = *++word;
                    shift = 0;
                }
                a0 = TOps.MultiplyAdd(TOps.Broadcast(values[slot]), TOps.Load(xt + (long)(groupStart + ((int)(current >> shift) & fieldMask)) * width), a0);
            }
        }
        TOps.Store(accumulators, TOps.Add(a0, b0));
        var b = bias == null ? 0f : bias[r];
        for (var i = 0; i < m; i++) y[(long)i * Rows + r] = accumulators[i] + b;
    }

    /// <summary>One row of X on a wide-vector machine: the x values under 8 stored weights are fetched with one AVX2 gather (.NET has no AVX-512 gather).</summary>
    private void MultiplyVectorGather(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads)
    {
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        {
            nint xAddress = (nint)px, yAddress = (nint)py, biasAddress = (nint)pb;
            var hasBias = !bias.IsEmpty;
            SparseRowKernels.RunOverRows(this, 1, threads, (r0, r1) =>
                MultiplyVectorGatherRange((float*)xAddress, (float*)yAddress, hasBias ? (float*)biasAddress : null, activation, r0, r1));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MultiplyVectorGatherRange(float* x, float* y, float* bias, FusedActivation activation, int r0, int r1)
    {
        int n = N, groupLength = M, groups = _groupsPerRow, bits = _positionBits, fieldMask = (1 << bits) - 1;
        int count = groups * n, slotsPerWord = 64 / bits;
        var columnsBuffer = new int[Math.Max(1, count) + 8];
        fixed (float* allValues = _values)
        fixed (ulong* allPositions = _positions)
        fixed (int* cols = columnsBuffer)
        {
            for (var r = r0; r < r1; r++)
            {
                var values = allValues + (long)r * count;
                var word = allPositions + (long)r * _positionWordsPerRow - 1;
                ulong current = 0;
                var shift = 64;
                var slot = 0;
                // Columns of the row's stored values, then the x values under them fetched 8 at a time.
                for (int g = 0, groupStart = 0; g < groups; g++, groupStart += groupLength)
                    for (var k = 0; k < n; k++, slot++, shift += bits)
                    {
                        if (shift == 64)
                        {
                            current = *++word;
                            shift = 0;
                        }
                        cols[slot] = groupStart + ((int)(current >> shift) & fieldMask);
                    }
                Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero;
                var e = 0;
                for (; e + 16 <= count; e += 16)
                {
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(values + e), Avx2.GatherVector256(x, Vector256.Load(cols + e), sizeof(float)), a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(values + e + 8), Avx2.GatherVector256(x, Vector256.Load(cols + e + 8), sizeof(float)), a1);
                }
                for (; e + 8 <= count; e += 8)
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(values + e), Avx2.GatherVector256(x, Vector256.Load(cols + e), sizeof(float)), a0);
                var sum = Vector256.Sum(a0 + a1);
                for (; e < count; e++) sum += values[e] * x[cols[e]];
                y[r] = sum + (bias == null ? 0f : bias[r]);
            }
        }
        SparseRowKernels.Finish<Vector256Ops, Vector256<float>>(y, 1, Rows, r0, r1, bias, activation);
    }

    /// <summary>One row of X: each weight row is expanded into a dense scratch row, then dotted with x in vectors.</summary>
    private void MultiplyVector<TOps, TVector>(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pb = bias)
        {
            nint xAddress = (nint)px, yAddress = (nint)py, biasAddress = (nint)pb;
            var hasBias = !bias.IsEmpty;
            SparseRowKernels.RunOverRows(this, 1, threads, (r0, r1) =>
                MultiplyVectorRange<TOps, TVector>((float*)xAddress, (float*)yAddress, hasBias ? (float*)biasAddress : null, activation, r0, r1));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MultiplyVectorRange<TOps, TVector>(float* x, float* y, float* bias, FusedActivation activation, int r0, int r1)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        int columns = Columns, width = TOps.Count, count = _groupsPerRow * N;
        var scratch = new float[Math.Max(1, columns)];
        var columnsBuffer = new int[Math.Max(1, count)];
        var valuesBuffer = new float[Math.Max(1, count)];
        fixed (float* dense = scratch)
        fixed (int* cols = columnsBuffer)
        fixed (float* vals = valuesBuffer)
        {
            for (var r = r0; r < r1; r++)
            {
                ((ISparseRowSource)this).DecodeRow(r, cols, vals);
                new Span<float>(dense, columns).Clear();
                for (var e = 0; e < count; e++) dense[cols[e]] += vals[e];
                TVector a0 = TOps.Zero, a1 = TOps.Zero;
                var c = 0;
                for (; c + 2 * width <= columns; c += 2 * width)
                {
                    a0 = TOps.MultiplyAdd(TOps.Load(dense + c), TOps.Load(x + c), a0);
                    a1 = TOps.MultiplyAdd(TOps.Load(dense + c + width), TOps.Load(x + c + width), a1);
                }
                for (; c + width <= columns; c += width)
                    a0 = TOps.MultiplyAdd(TOps.Load(dense + c), TOps.Load(x + c), a0);
                var sum = HorizontalSum<TOps, TVector>(TOps.Add(a0, a1));
                for (; c < columns; c++) sum += dense[c] * x[c];
                y[r] = sum + (bias == null ? 0f : bias[r]);
            }
        }
        SparseRowKernels.Finish<TOps, TVector>(y, 1, Rows, r0, r1, bias, activation);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float HorizontalSum<TOps, TVector>(TVector value)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var lanes = stackalloc float[TOps.Count];
        TOps.Store(lanes, value);
        var sum = 0f;
        for (var i = 0; i < TOps.Count; i++) sum += lanes[i];
        return sum;
    }
}
