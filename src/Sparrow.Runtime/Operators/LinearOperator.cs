using Sparrow.Graph;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Sparrow's fused fully connected layer (domain "ai.sparrow", op "Linear"): Y = act(X · W + b) in one pass
/// over the output. Inputs: X [..., K], W [K, N], optional bias [N]; Y is [..., N]. Attribute
/// <c>activation</c>: "" (none), "Relu" or "Gelu" (exact, erf-based), applied as the GEMM stores each tile.
/// The graph pass turns MatMul(X, W_const) followed by Add(·, b_const) (and a Relu/Gelu after it, when it
/// can) into this node with inputs (X, W, b). W is expected to be a constant initializer: the session
/// turns it once into the form it runs fastest in here (packed for the dense GEMM, or a sparse format) and
/// the operator keeps only that; a W computed at run time still works, on the plain GEMM.
/// </summary>
[OnnxOperator("Linear", Domain = OperatorContext.SparrowDomain)]
internal sealed class LinearOperator : Operator
{
    private readonly FusedActivation _activation;
    private readonly PreparedWeight? _weight;
    private readonly ActivationSparseWeight? _activationSparse;

    public LinearOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count is < 2 or > 3) throw new ArgumentException($"Linear takes 2 or 3 inputs (X, W, bias), got {node.Inputs.Count}.");
        _activation = Activations.Parse(node.GetString("activation", ""));
        if (context.Constant(node.Inputs[1]) is { } w)
        {
            if (w is not Tensor<float> { Rank: 2 } wf)
                throw new ArgumentException($"Linear's weight must be a 2-D float32 tensor [K, N], got {w}.");
            if (context.WeightKernels is { } kernels && context.FixedConstant(node.Inputs[1]) is not null)
            {
                _weight = kernels.Prepare(node, node.Inputs[1], wf, transposed: false);
                context.OwnInput(node, 1);
            }
        }
        _activationSparse = ActivationSparseWeight.TryCreate(node, context);
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        // The weight is null here when this operator holds its own form of it.
        var w = _weight is null ? RequiredFloat(inputs, 1) : null;
        var bias = Optional(inputs, 2);
        if (w is { Rank: not 2 }) throw new InvalidOperationException($"Linear's weight must be 2-D [K, N], got {TensorShape.Format(w.Shape)}.");
        if (x.Rank == 0) throw new InvalidOperationException("Linear's input must have rank 1 or more, got a scalar.");
        int k = w?.Shape[0] ?? _weight!.Inputs, n = w?.Shape[1] ?? _weight!.Outputs;
        if (x.Shape[^1] != k)
            throw new InvalidOperationException($"Linear's input {TensorShape.Format(x.Shape)} does not match weight [{k},{n}]: last dimension must be {k}.");
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
        float[]? thresholded = null;
        try
        {
            var input = x.Span;
            if (_activationSparse is { } sparse && m > 0 && n > 0)
            {
                if (m == 1)
                {
                    sparse.MultiplyRow(input, y.Span, columnBias, _activation);
                    return [y];
                }
                if (sparse.EveryRow) input = (thresholded = sparse.ThresholdedCopy(input, m)).AsSpan(0, m * k);
            }
            if (_weight is not null)
                _weight.Multiply(input, m, y.Span, columnBias, _activation, context.Threads);
            else
                Sgemm.Multiply(m, n, k, input, k, false, w!.Span, n, false, y.Span, n, columnBias: columnBias, activation: _activation,
                    maxThreads: context.Threads);
            return [y];
        }
        catch
        {
            y.Dispose();
            throw;
        }
        finally
        {
            if (thresholded is not null) System.Buffers.ArrayPool<float>.Shared.Return(thresholded);
        }
    }
}
