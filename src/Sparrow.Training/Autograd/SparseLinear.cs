using System.Buffers;
using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Training.Autograd;

/// <summary>
/// The forward pass of a fully connected node whose weight is a sparse enough masked parameter: the weight is
/// turned into CSR (as [outputs, inputs]) from its current values at every step, since training changes them,
/// and multiplied by the sparse kernel, so the forward work scales with the weight's density. Covers MatMul
/// with a 2-D weight and Gemm with transA = 0, transB = 1, alpha = 1 and no bias or a row bias with beta = 1.
/// </summary>
internal sealed class SparseLinear
{
    /// <summary>The density up to which the CSR product replaces the dense GEMM when <see cref="TrainingGraph.SparseForward"/> is on.</summary>
    public const double MaxDensity = 0.15;

    private readonly Parameter _weight;
    private readonly bool _transposed;
    private readonly bool _hasBias;

    private SparseLinear(Parameter weight, bool transposed, bool hasBias)
    {
        _weight = weight;
        _transposed = transposed;
        _hasBias = hasBias;
    }

    /// <summary>A plan for the node when it is a fully connected layer over a trainable weight, else null.</summary>
    public static SparseLinear? Plan(Node node, IReadOnlyDictionary<string, Parameter> parameters)
    {
        if (node.Domain.Length != 0 || node.Inputs.Count < 2 || !parameters.TryGetValue(node.Inputs[1], out var weight) || weight.Value.Rank != 2)
            return null;
        if (node.OpType == "MatMul" && node.Inputs.Count == 2) return new SparseLinear(weight, transposed: false, hasBias: false);
        if (node.OpType != "Gemm" || node.GetInt("transA", 0) != 0 || node.GetInt("transB", 0) != 1 || node.GetFloat("alpha", 1f) != 1f) return null;
        var hasBias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0;
        if (hasBias && node.GetFloat("beta", 1f) != 1f) return null;
        return new SparseLinear(weight, transposed: true, hasBias);
    }

    /// <summary>The node's output by the sparse kernel, or null when this step should take the dense operator.</summary>
    public Tensor[]? TryRun(Tensor?[] inputs, int threads)
    {
        if (_weight.Mask is not { } mask || mask.Density > MaxDensity || inputs[0] is not Tensor<float> x) return null;
        var w = _weight.Value;
        int outputs = _transposed ? w.Shape[0] : w.Shape[1], features = _transposed ? w.Shape[1] : w.Shape[0];
        if (x.Rank < 1 || x.Shape[^1] != features || (_transposed && x.Rank != 2)) return null;
        ReadOnlySpan<float> bias = default;
        if (_hasBias)
        {
            if (inputs[2] is not Tensor<float> { Rank: 1 } b || b.Length != outputs) return null;
            bias = b.Span;
        }
        CsrMatrix csr;
        if (_transposed) csr = CsrMatrix.FromDense(w.Span, outputs, features);
        else
        {
            var rented = ArrayPool<float>.Shared.Rent(w.Length);
            try
            {
                TensorMath.Transpose(w.Span, features, outputs, rented);
                csr = CsrMatrix.FromDense(rented.AsSpan(0, w.Length), outputs, features);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
        var shape = x.CopyShape();
        shape[^1] = outputs;
        var rows = x.Length / Math.Max(1, features);
        var y = Tensor<float>.Allocate(shape, clear: false);
        csr.Multiply(x.Span, rows, y.Span, bias, FusedActivation.None, threads);
        return [y];
    }
}
