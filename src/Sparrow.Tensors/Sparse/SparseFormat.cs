namespace Sparrow.Tensors.Sparse;

/// <summary>How a sparse weight matrix is stored; each format has kernels made for it.</summary>
public enum SparseFormat
{
    Dense,
    Csr,
    Bsr,
    NM,
    Bitmask,
}
