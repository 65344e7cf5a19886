using System.Buffers;
using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Runtime.Sparsity;

/// <summary>
/// A constant weight in the form its operator multiplies by: packed for the dense GEMM, or a sparse matrix.
/// Either way it computes Y[m, N] = X[m, K] · W + bias for an ONNX weight W [K, N]. Immutable, so one
/// instance serves concurrent runs (and nodes that share the weight).
/// </summary>
internal sealed class PreparedWeight
{
    private PreparedWeight(int inputs, int outputs, PackedMatrix? packed, ISparseMatrix? sparse)
    {
        Inputs = inputs;
        Outputs = outputs;
        Packed = packed;
        Sparse = sparse;
    }

    public static PreparedWeight Dense(PackedMatrix packed) => new(packed.Rows, packed.Columns, packed, null);

    public static PreparedWeight FromSparse(ISparseMatrix sparse) => new(sparse.Columns, sparse.Rows, null, sparse);

    /// <summary>K: input features.</summary>
    public int Inputs { get; }

    /// <summary>N: output features.</summary>
    public int Outputs { get; }

    public PackedMatrix? Packed { get; }

    public ISparseMatrix? Sparse { get; }

    public long Bytes => Sparse?.SizeInBytes ?? Packed!.ByteCount;

    /// <summary>Y[m, N] = act(X[m, K] · W + bias); <paramref name="x"/> rows are contiguous (leading dimension K).</summary>
    public void Multiply(ReadOnlySpan<float> x, int m, Span<float> y, ReadOnlySpan<float> columnBias, FusedActivation activation, int threads)
    {
        if (Sparse is { } sparse)
        {
            if (m == 0 || Outputs == 0) return;
            sparse.Multiply(x[..(m * Inputs)], m, y[..(m * Outputs)], columnBias, activation, threads);
        }
        else
        {
            Sgemm.Multiply(m, x, Inputs, false, Packed!, y, Outputs, columnBias: columnBias, activation: activation, maxThreads: threads);
        }
    }

    /// <summary>
    /// The general GEMM form: Y = alpha · op(A) · W + beta · Y + columnBias[j] + rowBias[i], as ONNX Gemm needs it.
    /// <paramref name="lda"/> is A's row length as stored (K, or M when transposed).
    /// </summary>
    public void Multiply(int m, ReadOnlySpan<float> a, int lda, bool transA, Span<float> y, float alpha, float beta,
        ReadOnlySpan<float> columnBias, ReadOnlySpan<float> rowBias, int threads)
    {
        if (Sparse is null)
        {
            Sgemm.Multiply(m, a, lda, transA, Packed!, y, Outputs, alpha, beta, columnBias, rowBias, maxThreads: threads);
            return;
        }
        int k = Inputs, n = Outputs;
        if (m == 0 || n == 0) return;
        float[]? rentedA = null, rentedY = null;
        try
        {
            var x = a;
            if (transA)
            {
                // A is stored [K, M]: the sparse kernel reads rows of X, so transpose once.
                rentedA = ArrayPool<float>.Shared.Rent(m * k);
                for (var p = 0; p < k; p++)
                for (var i = 0; i < m; i++)
                    rentedA[i * k + p] = a[p * lda + i];
                x = rentedA.AsSpan(0, m * k);
            }
            if (alpha == 1f && beta == 0f && rowBias.IsEmpty)
            {
                Sparse.Multiply(x[..(m * k)], m, y[..(m * n)], columnBias, FusedActivation.None, threads);
                return;
            }
            // Unusual scaling: the product into scratch, then combine the terms element by element.
            rentedY = ArrayPool<float>.Shared.Rent(m * n);
            var product = rentedY.AsSpan(0, m * n);
            Sparse.Multiply(x[..(m * k)], m, product, default, FusedActivation.None, threads);
            for (var i = 0; i < m; i++)
            {
                var row = y.Slice(i * n, n);
                var p = product.Slice(i * n, n);
                var rb = rowBias.IsEmpty ? 0f : rowBias[i];
                for (var j = 0; j < n; j++)
                {
                    var v = alpha * p[j] + rb + (columnBias.IsEmpty ? 0f : columnBias[j]);
                    row[j] = beta == 0f ? v : v + beta * row[j];
                }
            }
        }
        finally
        {
            if (rentedA is not null) ArrayPool<float>.Shared.Return(rentedA);
            if (rentedY is not null) ArrayPool<float>.Shared.Return(rentedY);
        }
    }
}
