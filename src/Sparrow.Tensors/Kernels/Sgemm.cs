using System.Buffers;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// Dense single-precision matrix multiply: C = alpha * op(A) * op(B) + beta * C + bias, then an optional
/// activation, where op(X) is X or its transpose. Matrices are row-major with a leading dimension (the
/// distance between rows as stored). A is M x K and B is K x N after op; C is M x N. With beta = 0, C is
/// only written, never read. Column bias has N elements (added to every row), row bias M (added to every
/// column). Work is split over at most <c>maxThreads</c> threads.
/// </summary>
public static unsafe class Sgemm
{
    /// <summary>Which instruction set the kernels use on this machine ("Vector512", ...), for reports.</summary>
    public static string InstructionSet => GemmConfig.Best.Isa.ToString();

    /// <summary>C = alpha * op(A) * op(B) + beta * C + bias, then <paramref name="activation"/>, with the kernels chosen for this machine (see the class summary for the layout).</summary>
    public static void Multiply(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc,
        float alpha = 1f, float beta = 0f,
        ReadOnlySpan<float> columnBias = default, ReadOnlySpan<float> rowBias = default,
        FusedActivation activation = FusedActivation.None, int maxThreads = 1) =>
        Multiply(GemmConfig.Best, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, columnBias, rowBias, activation, maxThreads);

    /// <summary>C = alpha * op(A) * B + beta * C + bias with B packed in advance; N and K come from <paramref name="b"/>.</summary>
    public static void Multiply(
        int m, ReadOnlySpan<float> a, int lda, bool transA,
        PackedMatrix b,
        Span<float> c, int ldc,
        float alpha = 1f, float beta = 0f,
        ReadOnlySpan<float> columnBias = default, ReadOnlySpan<float> rowBias = default,
        FusedActivation activation = FusedActivation.None, int maxThreads = 1)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.Columns, k = b.Rows;
        CheckArguments(m, n, k, a.Length, lda, transA, c.Length, ldc, columnBias.Length, rowBias.Length);
        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (float* pColumnBias = columnBias)
        fixed (float* pRowBias = rowBias)
        {
            var args = new GemmDriver.Arguments
            {
                M = m, N = n, K = k, A = pa, Lda = lda, TransA = transA, Alpha = alpha, PackedB = b.Data,
                C = pc, Ldc = ldc, Beta = beta, Activation = activation,
                ColumnBias = columnBias.IsEmpty ? null : pColumnBias,
                RowBias = rowBias.IsEmpty ? null : pRowBias,
            };
            GemmDriver.Run(b.Config, args, maxThreads);
        }
        GC.KeepAlive(b);
    }

    internal static void Multiply(
        GemmConfig config, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc,
        float alpha, float beta,
        ReadOnlySpan<float> columnBias, ReadOnlySpan<float> rowBias,
        FusedActivation activation, int maxThreads)
    {
        CheckArguments(m, n, k, a.Length, lda, transA, c.Length, ldc, columnBias.Length, rowBias.Length);
        CheckOperand("B", b.Length, k, n, ldb, transB);
        if (m == 0 || n == 0) return;
        var packedLength = PackedLength(config, k, n);
        var rented = ArrayPool<float>.Shared.Rent(packedLength + 16);
        try
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* pc = c)
            fixed (float* pColumnBias = columnBias)
            fixed (float* pRowBias = rowBias)
            fixed (float* pRented = rented)
            {
                var packed = (float*)(((nint)pRented + 63) & ~(nint)63);
                GemmPacking.PackB(config, pb, ldb, transB, k, n, packed, maxThreads);
                var args = new GemmDriver.Arguments
                {
                    M = m, N = n, K = k, A = pa, Lda = lda, TransA = transA, Alpha = alpha, PackedB = packed,
                    C = pc, Ldc = ldc, Beta = beta, Activation = activation,
                    ColumnBias = columnBias.IsEmpty ? null : pColumnBias,
                    RowBias = rowBias.IsEmpty ? null : pRowBias,
                };
                GemmDriver.Run(config, args, maxThreads);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// A batch of independent products C[i] = alpha * op(A[i]) * op(B[i]) + beta * C[i], each matrix found at
    /// its offset in the operand's span (repeat an offset to broadcast). Small products run one per thread.
    /// </summary>
    public static void MultiplyBatched(
        int batch, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA, ReadOnlySpan<int> offsetsA,
        ReadOnlySpan<float> b, int ldb, bool transB, ReadOnlySpan<int> offsetsB,
        Span<float> c, int ldc, ReadOnlySpan<int> offsetsC,
        float alpha = 1f, float beta = 0f, int maxThreads = 1)
    {
        if (offsetsA.Length < batch || offsetsB.Length < batch || offsetsC.Length < batch)
            throw new ArgumentException($"A batch of {batch} needs {batch} offsets for each operand.");
        fixed (int* oa = offsetsA)
        fixed (int* ob = offsetsB)
        fixed (int* oc = offsetsC)
            MultiplyBatched(GemmConfig.Best, batch, m, n, k, a, lda, transA, new BatchLayout(oa, 0), b, ldb, transB, new BatchLayout(ob, 0),
                c, ldc, new BatchLayout(oc, 0), alpha, beta, maxThreads);
    }

    /// <summary>A batch of products whose matrices lie at equal strides (0 broadcasts one matrix to all).</summary>
    public static void MultiplyBatched(
        int batch, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA, int strideA,
        ReadOnlySpan<float> b, int ldb, bool transB, int strideB,
        Span<float> c, int ldc, int strideC,
        float alpha = 1f, float beta = 0f, int maxThreads = 1) =>
        MultiplyBatched(GemmConfig.Best, batch, m, n, k, a, lda, transA, new BatchLayout(null, strideA), b, ldb, transB, new BatchLayout(null, strideB),
            c, ldc, new BatchLayout(null, strideC), alpha, beta, maxThreads);

    /// <summary>Where matrix i of a batched operand starts: Offsets[i], or i * Stride when there are no offsets.</summary>
    internal readonly struct BatchLayout(int* offsets, int stride)
    {
        public int Offset(int i) => offsets != null ? offsets[i] : checked(i * stride);
    }

    internal static void MultiplyBatched(
        GemmConfig config, int batch, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA, BatchLayout layoutA,
        ReadOnlySpan<float> b, int ldb, bool transB, BatchLayout layoutB,
        Span<float> c, int ldc, BatchLayout layoutC,
        float alpha, float beta, int maxThreads)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), "The batch size must not be negative.");
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"Matrix dimensions must not be negative (M={m}, N={n}, K={k}).");
        for (var i = 0; i < batch; i++)
        {
            CheckBatchOperand("A", i, layoutA.Offset(i), a.Length, m, k, lda, transA);
            CheckBatchOperand("B", i, layoutB.Offset(i), b.Length, k, n, ldb, transB);
            CheckBatchOperand("C", i, layoutC.Offset(i), c.Length, m, n, ldc, false);
        }
        if (batch == 0 || m == 0 || n == 0) return;
        // Products big enough to keep every thread busy on their own run one after another, each threaded;
        // smaller ones (attention heads) run one per thread, which wastes no time on splitting and joining.
        var itemFlops = 2L * m * n * k;
        var perItem = maxThreads <= 1 || batch == 1 || (itemFlops > 32L << 20 && batch % maxThreads != 0 && batch < 4 * maxThreads);
        var packedLength = PackedLength(config, k, n);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var pA = pa; var pB = pb; var pC = pc;
            void RunItem(int i, int threads)
            {
                var packed = GemmScratch.B(packedLength);
                GemmPacking.PackB(config, pB + layoutB.Offset(i), ldb, transB, k, n, packed, threads);
                var args = new GemmDriver.Arguments
                {
                    M = m, N = n, K = k, A = pA + layoutA.Offset(i), Lda = lda, TransA = transA, Alpha = alpha,
                    PackedB = packed, C = pC + layoutC.Offset(i), Ldc = ldc, Beta = beta,
                };
                GemmDriver.Run(config, args, threads);
            }
            if (perItem)
                for (var i = 0; i < batch; i++) RunItem(i, maxThreads);
            else
            {
                // Contiguous chunks, a few per thread: fewer hand-offs than one item at a time, still balanced.
                var chunks = Math.Min(batch, 4 * maxThreads);
                GemmParallel.For(chunks, maxThreads, chunk =>
                {
                    for (int i = (int)((long)chunk * batch / chunks), end = (int)((long)(chunk + 1) * batch / chunks); i < end; i++) RunItem(i, 1);
                });
            }
        }
    }

    /// <summary>Floats in a packed K x N operand, checked against the largest array.</summary>
    private static int PackedLength(GemmConfig config, int k, int n)
    {
        var length = (long)k * config.PaddedColumns(n);
        if (length > Array.MaxLength - 64)
            throw new ArgumentException($"A {k} x {n} B operand is too large to pack ({length} elements).");
        return (int)length;
    }

    private static void CheckArguments(int m, int n, int k, int aLength, int lda, bool transA, int cLength, int ldc, int columnBiasLength, int rowBiasLength)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"Matrix dimensions must not be negative (M={m}, N={n}, K={k}).");
        CheckOperand("A", aLength, m, k, lda, transA);
        CheckOperand("C", cLength, m, n, ldc, false);
        if (columnBiasLength != 0 && columnBiasLength < n) throw new ArgumentException($"The column bias has {columnBiasLength} elements; it needs N = {n}.");
        if (rowBiasLength != 0 && rowBiasLength < m) throw new ArgumentException($"The row bias has {rowBiasLength} elements; it needs M = {m}.");
    }

    /// <summary>Checks that a span holds op(X) of rows x columns stored with the given leading dimension.</summary>
    internal static void CheckOperand(string name, int length, int rows, int columns, int ld, bool transposed)
    {
        var storedRows = transposed ? columns : rows;
        var storedColumns = transposed ? rows : columns;
        if (ld < storedColumns)
            throw new ArgumentException($"The leading dimension of {name} is {ld}; it must be at least {storedColumns}.");
        if (storedRows == 0 || storedColumns == 0) return;
        var needed = (long)(storedRows - 1) * ld + storedColumns;
        if (length < needed)
            throw new ArgumentException($"{name} has {length} elements; a {storedRows} x {storedColumns} matrix with leading dimension {ld} needs {needed}.");
    }

    private static void CheckBatchOperand(string name, int index, int offset, int length, int rows, int columns, int ld, bool transposed)
    {
        if (offset < 0) throw new ArgumentException($"Offset {offset} of {name}[{index}] is negative.");
        CheckOperand($"{name}[{index}]", length - Math.Min(offset, length), rows, columns, ld, transposed);
    }
}
