namespace Sparrow.Tensors.Sparse;

/// <summary>
/// Every sparse format and its parameters that Sparrow has kernels for, by name: tests check each against a dense
/// reference and benchmarks time each. A plain list so that new formats are one line each.
/// </summary>
public static class SparseKernelTable
{
    public sealed record Entry(string Name, SparseFormat Format, Func<float[], int, int, bool[]?, ISparseMatrix> Create);

    public static IReadOnlyList<Entry> All { get; } =
    [
        new("CSR", SparseFormat.Csr, (dense, rows, columns, mask) => CsrMatrix.FromDense(dense, rows, columns, mask)),
        new("BSR 1x4", SparseFormat.Bsr, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 1, 4, mask)),
        new("BSR 4x1", SparseFormat.Bsr, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 4, 1, mask)),
        new("BSR 4x4", SparseFormat.Bsr, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 4, 4, mask)),
        new("BSR 8x1", SparseFormat.Bsr, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 8, 1, mask)),
        new("BSR 16x1", SparseFormat.Bsr, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 16, 1, mask)),
        new("BSR 2x3", SparseFormat.Bsr, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 2, 3, mask)),
        new("BSR 1x8", SparseFormat.Bsr, (dense, rows, columns, mask) => BsrMatrix.FromDense(dense, rows, columns, 1, 8, mask)),
    ];

    public static Entry Find(string name) =>
        All.FirstOrDefault(e => e.Name == name) ?? throw new ArgumentException($"No sparse kernel named '{name}'.");
}
