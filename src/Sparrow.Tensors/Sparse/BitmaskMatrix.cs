using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// Unstructured sparsity as a bitmask: the kept values packed in row order plus one bit per element (each row
/// padded to whole 64-bit words). One row of X is handled 16 columns at a time by expanding the packed values with
/// the 16 mask bits into a dense vector (AVX-512 expand-load where available) and multiplying it with x.
/// </summary>
public sealed unsafe class BitmaskMatrix : ISparseMatrix, ISparseRowSource
{
    private readonly float[] _values;   // kept values, row by row
    private readonly ulong[] _bits;     // [Rows, WordsPerRow], bit c % 64 of word c / 64 = column c kept
    private readonly int[] _rowStarts;  // [Rows + 1] index of each row's first value
    private readonly int _wordsPerRow;
    private readonly int _maxRowEntries;

    private BitmaskMatrix(int rows, int columns, float[] values, ulong[] bits, int[] rowStarts)
    {
        Rows = rows;
        Columns = columns;
        _values = values;
        _bits = bits;
        _rowStarts = rowStarts;
        _wordsPerRow = (columns + 63) / 64;
        for (var r = 0; r < rows; r++) _maxRowEntries = Math.Max(_maxRowEntries, rowStarts[r + 1] - rowStarts[r]);
    }

    /// <inheritdoc/>
    public SparseFormat Format => SparseFormat.Bitmask;

    /// <inheritdoc/>
    public string Description => "Bitmask";

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <inheritdoc/>
    public long StoredValues => _values.LongLength;

    /// <inheritdoc/>
    public long SizeInBytes => _values.LongLength * sizeof(float) + _bits.LongLength * sizeof(ulong) + _rowStarts.LongLength * sizeof(int);

    int ISparseRowSource.MaxRowEntries => _maxRowEntries;

    long ISparseRowSource.RowCost(int row) => _rowStarts[row + 1] - _rowStarts[row] + _wordsPerRow + 4;

    /// <summary>
    /// Builds the format from dense row-major [rows, columns] values; kept entries are those where
    /// <paramref name="mask"/> is true, or the non-zero values without a mask.
    /// </summary>
    public static BitmaskMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, ReadOnlySpan<bool> mask = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (dense.Length != (long)rows * columns)
            throw new ArgumentException($"dense has {dense.Length} values; {rows}x{columns} needs {(long)rows * columns}.", nameof(dense));
        if (!mask.IsEmpty && mask.Length != dense.Length)
            throw new ArgumentException($"mask has {mask.Length} values; expected {dense.Length}.", nameof(mask));

        var wordsPerRow = (columns + 63) / 64;
        var bits = new ulong[(long)rows * wordsPerRow];
        var rowStarts = new int[rows + 1];
        long kept = 0;
        for (var i = 0; i < dense.Length; i++)
            if (mask.IsEmpty ? dense[i] != 0f : mask[i]) kept++;
        if (kept > Array.MaxLength) throw new ArgumentException($"{kept} kept values do not fit one array.", nameof(dense));
        var values = new float[kept];
        var next = 0;
        for (var r = 0; r < rows; r++)
        {
            rowStarts[r] = next;
            for (var c = 0; c < columns; c++)
            {
                var index = (long)r * columns + c;
                if (!(mask.IsEmpty ? dense[(int)index] != 0f : mask[(int)index])) continue;
                bits[(long)r * wordsPerRow + c / 64] |= 1UL << (c % 64);
                values[next++] = dense[(int)index];
            }
        }
        rowStarts[rows] = next;
        return new BitmaskMatrix(rows, columns, values, bits, rowStarts);
    }

    /// <inheritdoc/>
    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (var r = 0; r < Rows; r++)
        {
            var next = _rowStarts[r];
            for (var w = 0; w < _wordsPerRow; w++)
                for (var bits = _bits[(long)r * _wordsPerRow + w]; bits != 0; bits &= bits - 1)
                    dense[(long)r * Columns + w * 64 + BitOperations.TrailingZeroCount(bits)] = _values[next++];
        }
        return dense;
    }

    int ISparseRowSource.DecodeRow(int row, int* columns, float* values)
    {
        var next = _rowStarts[row];
        var count = 0;
        for (var w = 0; w < _wordsPerRow; w++)
            for (var bits = _bits[(long)row * _wordsPerRow + w]; bits != 0; bits &= bits - 1)
            {
                columns[count] = w * 64 + BitOperations.TrailingZeroCount(bits);
                values[count++] = _values[next++];
            }
        return count;
    }

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads) =>
        Multiply(x, m, y, bias, activation, threads, SparseRowKernels.BestVectorBits);

    /// <summary>
    /// As <see cref="Multiply(ReadOnlySpan{float}, int, Span{float}, ReadOnlySpan{float}, FusedActivation, int)"/> with the
    /// vector width forced (512 uses AVX-512 expand-load where supported; 256, 128 and 0 = scalar expand in software), for tests.
    /// </summary>
    internal void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads, int vectorBits)
    {
        SparseRowKernels.CheckArguments(this, x, m, y, bias, vectorBits);
        if (vectorBits > SparseRowKernels.BestVectorBits) vectorBits = SparseRowKernels.BestVectorBits;
        if (m == 0 || Rows == 0) return;
        if (m > 1)
        {
            SparseRowKernels.MultiplyMany(this, x, m, y, bias, activation, threads, vectorBits);
            return;
        }
        // x padded with zeros to whole 64-column words, so a 16-column chunk never reads past its end.
        var padded = new float[_wordsPerRow * 64 + 16];
        x[..Columns].CopyTo(padded);
        fixed (float* px = padded)
        fixed (float* py = y)
        fixed (float* pb = bias)
        {
            nint xAddress = (nint)px, yAddress = (nint)py, biasAddress = (nint)pb;
            var hasBias = !bias.IsEmpty;
            SparseRowKernels.RunOverRows(this, 1, threads, (r0, r1) =>
            {
                var xp = (float*)xAddress;
                var yp = (float*)yAddress;
                var bp = hasBias ? (float*)biasAddress : null;
                switch (vectorBits)
                {
                    case 512 when Avx512F.IsSupported: MultiplyVectorExpandLoad(xp, yp, bp, activation, r0, r1); break;
                    case 512: MultiplyVector<Vector512Ops, Vector512<float>>(xp, yp, bp, activation, r0, r1); break;
                    case 256: MultiplyVector<Vector256Ops, Vector256<float>>(xp, yp, bp, activation, r0, r1); break;
                    case 128: MultiplyVector<Vector128Ops, Vector128<float>>(xp, yp, bp, activation, r0, r1); break;
                    default: MultiplyVectorScalar(xp, yp, bp, activation, r0, r1); break;
                }
            });
        }
        GC.KeepAlive(padded);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MultiplyVectorExpandLoad(float* x, float* y, float* bias, FusedActivation activation, int r0, int r1)
    {
        var laneBits = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
        fixed (float* values = _values)
        fixed (ulong* allBits = _bits)
        {
            for (var r = r0; r < r1; r++)
            {
                var next = values + _rowStarts[r];
                var words = allBits + (long)r * _wordsPerRow;
                Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero;
                for (var w = 0; w < _wordsPerRow; w++)
                {
                    var bits = words[w];
                    if (bits == 0) continue;
                    var xw = x + w * 64;
                    for (var chunk = 0; chunk < 4; chunk++, bits >>= 16)
                    {
                        var chunkBits = (int)(bits & 0xFFFF);
                        if (chunkBits == 0) continue;
                        var mask = Vector512.Equals(Vector512.Create(chunkBits) & laneBits, laneBits).AsSingle();
                        var expanded = Avx512F.ExpandLoad(next, mask, Vector512<float>.Zero);
                        // Two accumulators alternate so consecutive FMAs do not wait on each other.
                        if ((chunk & 1) == 0) a0 = Vector512.FusedMultiplyAdd(expanded, Vector512.Load(xw + chunk * 16), a0);
                        else a1 = Vector512.FusedMultiplyAdd(expanded, Vector512.Load(xw + chunk * 16), a1);
                        next += BitOperations.PopCount((uint)chunkBits);
                    }
                }
                y[r] = Vector512.Sum(a0 + a1) + (bias == null ? 0f : bias[r]);
            }
        }
        SparseRowKernels.Finish<Vector512Ops, Vector512<float>>(y, 1, Rows, r0, r1, bias, activation);
    }

    /// <summary>The expand done in software: the chunk's values are scattered into a 16-float buffer, then loaded as vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void MultiplyVector<TOps, TVector>(float* x, float* y, float* bias, FusedActivation activation, int r0, int r1)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        var buffer = stackalloc float[16];
        fixed (float* values = _values)
        fixed (ulong* allBits = _bits)
        {
            for (var r = r0; r < r1; r++)
            {
                var next = values + _rowStarts[r];
                var words = allBits + (long)r * _wordsPerRow;
                var acc = TOps.Zero;
                for (var w = 0; w < _wordsPerRow; w++)
                {
                    var bits = words[w];
                    if (bits == 0) continue;
                    var xw = x + w * 64;
                    for (var chunk = 0; chunk < 4; chunk++, bits >>= 16)
                    {
                        var chunkBits = (uint)(bits & 0xFFFF);
                        if (chunkBits == 0) continue;
                        new Span<float>(buffer, 16).Clear();
                        for (var b = chunkBits; b != 0; b &= b - 1) buffer[BitOperations.TrailingZeroCount(b)] = *next++;
                        for (var j = 0; j < 16; j += width)
                            acc = TOps.MultiplyAdd(TOps.Load(buffer + j), TOps.Load(xw + chunk * 16 + j), acc);
                    }
                }
                y[r] = NMSparseMatrix.HorizontalSum<TOps, TVector>(acc) + (bias == null ? 0f : bias[r]);
            }
        }
        SparseRowKernels.Finish<TOps, TVector>(y, 1, Rows, r0, r1, bias, activation);
    }

    private void MultiplyVectorScalar(float* x, float* y, float* bias, FusedActivation activation, int r0, int r1)
    {
        fixed (float* values = _values)
        fixed (ulong* allBits = _bits)
        {
            for (var r = r0; r < r1; r++)
            {
                var next = values + _rowStarts[r];
                var words = allBits + (long)r * _wordsPerRow;
                var sum = 0f;
                for (var w = 0; w < _wordsPerRow; w++)
                    for (var bits = words[w]; bits != 0; bits &= bits - 1)
                        sum += *next++ * x[w * 64 + BitOperations.TrailingZeroCount(bits)];
                y[r] = sum + (bias == null ? 0f : bias[r]);
            }
        }
        SparseRowKernels.Finish<ScalarOps, float>(y, 1, Rows, r0, r1, bias, activation);
    }
}
