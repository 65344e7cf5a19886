namespace Sparrow.Tensors.Sparse;

/// <summary>
/// Every sparse format and its parameters that Sparrow has kernels for, by name: tests check each against a dense
/// reference, benchmarks time each and the runtime's format choice tries each. A plain list so that new formats
/// are one line each.
/// </summary>
public static class SparseKernelTable
{
    /// <param name="Pattern">
    /// The N:M pattern a matrix must follow for this entry (at most N kept in every group of M consecutive
    /// columns); null when any mask is accepted. <see cref="Entry.Create"/> refuses a matrix that breaks it.
    /// </param>
    public sealed record Entry(string Name, SparseFormat Format, (int N, int M)? Pattern, Func<float[], int, int, bool[]?, ISparseMatrix> Create)
    {
        /// <summary>Builds the matrix, or returns null when it does not follow this entry's pattern.</summary>
        public ISparseMatrix? TryCreate(float[] dense, int rows, int columns, bool[]? mask)
        {
            if (Pattern is { } p && !NMSparseMatrix.Follows(dense, rows, columns, p.N, p.M, mask)) return null;
            return Create(dense, rows, columns, mask);
        }
    }

    /// <summary>Every format and parameter set that has kernels, in a fixed order.</summary>
    public static IReadOnlyList<Entry> All { get; } =
    [
        new("CSR", SparseFormat.Csr, null, (dense, rows, columns, mask) => CsrMatrix.FromDense(dense, rows, columns, mask)),
        new("CSR interleaved", SparseFormat.Csr, null, (dense, rows, columns, mask) => InterleavedCsrMatrix.FromDense(dense, rows, columns, mask)),
        new("BSR 1x4", SparseFormat.Bsr, null, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 1, 4, mask)),
        new("BSR 4x1", SparseFormat.Bsr, null, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 4, 1, mask)),
        new("BSR 4x4", SparseFormat.Bsr, null, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 4, 4, mask)),
        new("BSR 8x1", SparseFormat.Bsr, null, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 8, 1, mask)),
        new("BSR 16x1", SparseFormat.Bsr, null, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 16, 1, mask)),
        new("BSR 2x3", SparseFormat.Bsr, null, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 2, 3, mask)),
        new("BSR 1x8", SparseFormat.Bsr, null, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 1, 8, mask)),
        new("NM 2:4", SparseFormat.NM, (2, 4), (dense, rows, columns, mask) => NMSparseMatrix.FromDense(dense, rows, columns, 2, 4, mask)),
        new("NM 4:8", SparseFormat.NM, (4, 8), (dense, rows, columns, mask) => NMSparseMatrix.FromDense(dense, rows, columns, 4, 8, mask)),
        new("NM 2:4 panels", SparseFormat.NM, (2, 4), (dense, rows, columns, mask) => NMPanelMatrix.FromDense(dense, rows, columns, 2, 4, mask)),
        new("NM 4:8 panels", SparseFormat.NM, (4, 8), (dense, rows, columns, mask) => NMPanelMatrix.FromDense(dense, rows, columns, 4, 8, mask)),
        new("Bitmask", SparseFormat.Bitmask, null, (dense, rows, columns, mask) => BitmaskMatrix.FromDense(dense, rows, columns, mask)),
    ];

    /// <summary>The entry called <paramref name="name"/> (case-insensitive), e.g. "CSR" or "NM 2:4".</summary>
    /// <exception cref="ArgumentException">No entry has that name; the message lists the known ones.</exception>
    public static Entry Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No sparse kernel named '{name}'; known: {string.Join(", ", All.Select(e => e.Name))}.");
}
