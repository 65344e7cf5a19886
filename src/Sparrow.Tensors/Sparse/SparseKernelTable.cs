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
    ];

    public static Entry Find(string name) =>
        All.FirstOrDefault(e => e.Name == name) ?? throw new ArgumentException($"No sparse kernel named '{name}'.");
}
