using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Sparrow's fused fully connected layer (domain "ai.sparrow", op "Linear"): Y = act(X · W + b) in one pass
/// over the output. Inputs: X [..., K], W [K, N], optional bias [N]; Y is [..., N]. Attribute
/// <c>activation</c>: "" (none), "Relu" or "Gelu" (exact, erf-based), applied as the GEMM stores each tile.
/// The graph pass turns MatMul(X, W_const) followed by Add(·, b_const) (and a Relu/Gelu after it, when it
/// can) into this node with inputs (X, W, b). W is expected to be a constant initializer and is packed
/// once when the session is created; a W computed at run time still works, packed on every run.
/// </summary>
[OnnxOperator("Linear", Domain = OperatorContext.SparrowDomain)]
public sealed class LinearOperator : Operator
{
    private readonly FusedActivation _activation;
    private readonly Tensor? _constantW;
    private readonly PackedMatrix? _packedW;

    public LinearOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count is < 2 or > 3) throw new ArgumentException($"Linear takes 2 or 3 inputs (X, W, bias), got {node.Inputs.Count}.");
        _activation = Activations.Parse(node.GetString("activation", ""));
        if (context.Constant(node.Inputs[1]) is { } w)
        {
            if (w is not Tensor<float> { Rank: 2 } wf)
                throw new ArgumentException($"Linear's weight must be a 2-D float32 tensor [K, N], got {w}.");
            _constantW = wf;
            _packedW = PackedMatrix.Pack(wf, context.Options.EffectiveThreads);
        }
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var w = RequiredFloat(inputs, 1);
        var bias = Optional(inputs, 2);
        if (w.Rank != 2) throw new InvalidOperationException($"Linear's weight must be 2-D [K, N], got {TensorShape.Format(w.Shape)}.");
        if (x.Rank == 0) throw new InvalidOperationException("Linear's input must have rank 1 or more, got a scalar.");
        int k = w.Shape[0], n = w.Shape[1];
        if (x.Shape[^1] != k)
            throw new InvalidOperationException($"Linear's input {TensorShape.Format(x.Shape)} does not match weight {TensorShape.Format(w.Shape)}: last dimension must be {k}.");
        ReadOnlySpan<float> columnBias = default;
        if (bias is not null)
        {
            var bf = bias as Tensor<float> ?? throw new NotSupportedException($"Linear's bias is {DataTypes.Name(bias.ElementType)}; only float32 is supported.");
            if (bf.Length != n) throw new InvalidOperationException($"Linear's bias has shape {TensorShape.Format(bf.Shape)}; it needs {n} elements.");
            columnBias = bf.Span;
        }
        var outputShape = x.CopyShape();
        outputShape[^1] = n;
        var m = x.Length / Math.Max(k, 1);
        if (k == 0) m = TensorShape.Product(outputShape.AsSpan(0, outputShape.Length - 1));
        var y = Tensor<float>.Allocate(outputShape, clear: false);
        try
        {
            if (_packedW is not null && ReferenceEquals(w, _constantW))
                Sgemm.Multiply(m, x.Span, k, false, _packedW, y.Span, n, columnBias: columnBias, activation: _activation, maxThreads: context.Threads);
            else
                Sgemm.Multiply(m, n, k, x.Span, k, false, w.Span, n, false, y.Span, n, columnBias: columnBias, activation: _activation,
                    maxThreads: context.Threads);
            return [y];
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }
}
