using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>
/// A weight matrix W of <see cref="Rows"/> output features by <see cref="Columns"/> input features, stored in a
/// sparse format, with the kernel that computes Y = X·Wᵀ + b (the layout of a linear layer: each row of W is one
/// output). Immutable once built, so one instance serves concurrent runs.
/// </summary>
public interface ISparseMatrix
{
    /// <summary>The storage format, for reports and the runtime's choice of kernel.</summary>
    SparseFormat Format { get; }

    /// <summary>A short description of the format and its parameters, e.g. "CSR (16-bit indices)" or "BSR 4x1".</summary>
    string Description { get; }

    /// <summary>Output features (rows of W).</summary>
    int Rows { get; }

    /// <summary>Input features (columns of W).</summary>
    int Columns { get; }

    /// <summary>Stored non-zero weights (for block formats, the stored values, zeros inside kept blocks included).</summary>
    long StoredValues { get; }

    /// <summary>Bytes the format occupies in memory: values, indices, metadata.</summary>
    long SizeInBytes { get; }

    /// <summary>
    /// Y[m, Rows] = X[m, Columns] · Wᵀ + bias, then the activation. Every element of <paramref name="y"/> is written.
    /// </summary>
    /// <param name="bias">Empty, or one value per output feature.</param>
    void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation, int threads);

    /// <summary>The matrix as dense row-major [Rows, Columns] values.</summary>
    float[] ToDense();
}
