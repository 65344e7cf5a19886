namespace Sparrow.Tensors.Sparse;

/// <summary>How a sparse weight matrix is stored; each format has kernels made for it.</summary>
public enum SparseFormat
{
    /// <summary>Plain dense row-major values (the baseline every format is compared with).</summary>
    Dense,
    /// <summary>Compressed sparse rows: the non-zeros of each row with their column indices.</summary>
    Csr,
    /// <summary>Block sparse rows: fixed-size dense blocks of W, kept or dropped whole.</summary>
    Bsr,
    /// <summary>N:M: at most N non-zeros in every group of M consecutive input features, with their positions in the group.</summary>
    NM,
    /// <summary>One bit per weight marks the non-zeros; the kept values are stored in row order.</summary>
    Bitmask,
}
