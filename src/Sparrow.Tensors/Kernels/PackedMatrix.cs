namespace Sparrow.Tensors.Kernels;

/// <summary>
/// The B operand of a GEMM (K x N), packed once into the layout the micro-kernel reads, for weights that
/// do not change between runs: a session packs each constant weight when it is created and every run
/// skips the packing. Immutable, so one instance serves concurrent runs.
/// </summary>
public sealed unsafe class PackedMatrix
{
    private readonly AlignedArray<float> _storage;

    private PackedMatrix(GemmConfig config, int rows, int columns, AlignedArray<float> storage)
    {
        Config = config;
        Rows = rows;
        Columns = columns;
        _storage = storage;
    }

    /// <summary>K: the depth of the product.</summary>
    public int Rows { get; }

    /// <summary>N: the columns of the product.</summary>
    public int Columns { get; }

    /// <summary>Bytes held by the packed copy.</summary>
    public long ByteCount => _storage.ByteCount;

    internal GemmConfig Config { get; }

    /// <summary>The packed elements; valid as long as this object lives (the storage is pinned).</summary>
    internal float* Data => _storage.Pointer;

    /// <summary>
    /// Packs B, stored row-major as <paramref name="rows"/> x <paramref name="columns"/> with leading dimension
    /// <paramref name="ldb"/> (0: columns), or when <paramref name="transposed"/> stored as its transpose
    /// (N x K, leading dimension 0: K), as ONNX Gemm's transB describes it.
    /// </summary>
    public static PackedMatrix Pack(ReadOnlySpan<float> b, int rows, int columns, int ldb = 0, bool transposed = false, int maxThreads = 1) =>
        Pack(GemmConfig.Best, b, rows, columns, ldb, transposed, maxThreads);

    /// <summary>Packs a 2-D tensor [K, N].</summary>
    public static PackedMatrix Pack(Tensor<float> b, int maxThreads = 1)
    {
        if (b.Rank != 2) throw new ArgumentException($"A packed matrix needs a 2-D tensor, got shape {TensorShape.Format(b.Shape)}.");
        return Pack(b.Span, b.Shape[0], b.Shape[1], 0, false, maxThreads);
    }

    internal static PackedMatrix Pack(GemmConfig config, ReadOnlySpan<float> b, int rows, int columns, int ldb, bool transposed, int maxThreads)
    {
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(nameof(rows), "Matrix dimensions must not be negative.");
        if (ldb == 0) ldb = transposed ? rows : columns;
        Sgemm.CheckOperand("B", b.Length, rows, columns, ldb, transposed);
        var length = (long)rows * config.PaddedColumns(columns);
        if (length + 16 > Array.MaxLength) throw new ArgumentException($"A packed {rows} x {columns} matrix is too large.");
        var storage = new AlignedArray<float>(length, zeroed: false);
        var packed = new PackedMatrix(config, rows, columns, storage);
        fixed (float* source = b)
            GemmPacking.PackB(config, source, ldb, transposed, rows, columns, packed.Data, maxThreads);
        return packed;
    }
}
