using Sparrow.Graph;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Gemm (opsets 7 to 13+): Y = alpha * op(A) * op(B) + beta * C, with C broadcast to [M, N]
/// (a scalar, a row [N], a column [M, 1] or the full matrix; optional from opset 11). A row or column C
/// is added by the GEMM as it stores its tiles; a full C is copied into Y first and scaled there. A
/// constant B is turned once, when the session is created, into the form it runs fastest in (packed for
/// the GEMM, transposed or not, or a sparse format), and this operator keeps only that form.
/// </summary>
[OnnxOperator("Gemm")]
internal sealed class GemmOperator : Operator
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly bool _transA;
    private readonly bool _transB;
    private readonly PreparedWeight? _weight;

    public GemmOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count is < 2 or > 3) throw new ArgumentException($"Gemm takes 2 or 3 inputs, got {node.Inputs.Count}.");
        if (context.Opset < 7 && node.FindAttribute("broadcast") is not null)
            throw new NotSupportedException("Gemm's 'broadcast' attribute (opset 6 and older) is not supported.");
        _alpha = node.GetFloat("alpha", 1f);
        _beta = node.GetFloat("beta", 1f);
        _transA = node.GetInt("transA", 0) != 0;
        _transB = node.GetInt("transB", 0) != 0;
        if (context.WeightKernels is { } kernels && context.FixedConstant(node.Inputs[1]) is Tensor<float> { Rank: 2 } b)
        {
            _weight = kernels.Prepare(node, node.Inputs[1], b, _transB);
            context.OwnInput(node, 1);
        }
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var a = RequiredFloat(inputs, 0);
        // B is null here when this operator holds its own form of it.
        var b = _weight is null ? RequiredFloat(inputs, 1) : null;
        var c = Optional(inputs, 2);
        if (a.Rank != 2 || b is { Rank: not 2 })
            throw new InvalidOperationException($"Gemm needs 2-D A and B, got {TensorShape.Format(a.Shape)} and {(b is null ? "a 2-D constant" : TensorShape.Format(b.Shape))}.");
        int m = _transA ? a.Shape[1] : a.Shape[0], k = _transA ? a.Shape[0] : a.Shape[1];
        int kb = b is null ? _weight!.Inputs : _transB ? b.Shape[1] : b.Shape[0];
        int n = b is null ? _weight!.Outputs : _transB ? b.Shape[0] : b.Shape[1];
        if (k != kb)
            throw new InvalidOperationException(
                $"Gemm operands do not match: A {TensorShape.Format(a.Shape)} (transA={(_transA ? 1 : 0)}) and B {(b is null ? $"[{kb},{n}] after transB" : TensorShape.Format(b.Shape))} (transB={(_transB ? 1 : 0)}) give inner dimensions {k} and {kb}.");

        var y = Tensor<float>.Allocate([m, n], clear: false);
        try
        {
            var beta = 0f;
            float[]? columnBias = null, rowBias = null;
            if (c is not null && _beta != 0f)
            {
                var cf = c as Tensor<float> ?? throw new NotSupportedException($"Gemm's C is {DataTypes.Name(c.ElementType)}; only float32 is supported.");
                switch (ClassifyC(cf.Shape, m, n))
                {
                    case CShape.Scalar:
                        columnBias = new float[n];
                        Array.Fill(columnBias, _beta * cf.Span[0]);
                        break;
                    case CShape.Row:
                        columnBias = new float[n];
                        for (var j = 0; j < n; j++) columnBias[j] = _beta * cf.Span[j];
                        break;
                    case CShape.Column:
                        rowBias = new float[m];
                        for (var i = 0; i < m; i++) rowBias[i] = _beta * cf.Span[i];
                        break;
                    default:
                        cf.Span.CopyTo(y.Span);
                        beta = _beta;
                        break;
                }
            }
            var lda = a.Shape[1];
            if (_weight is not null)
                _weight.Multiply(m, a.Span, lda, _transA, y.Span, _alpha, beta, columnBias, rowBias, context.Threads);
            else
                Sgemm.Multiply(m, n, k, a.Span, lda, _transA, b!.Span, b.Shape[1], _transB, y.Span, n, _alpha, beta, columnBias, rowBias,
                    maxThreads: context.Threads);
            return [y];
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    private enum CShape { Scalar, Row, Column, Full }

    /// <summary>How C broadcasts to [M, N] (unidirectionally: C's dimensions are 1 or equal to Y's).</summary>
    private static CShape ClassifyC(ReadOnlySpan<int> shape, int m, int n)
    {
        if (shape.Length > 2 || TensorShape.TryBroadcast(shape, [m, n]) is not { } result || result[0] != m || result[1] != n)
            throw new InvalidOperationException($"Gemm's C of shape {TensorShape.Format(shape)} does not broadcast to [{m},{n}].");
        var rows = shape.Length == 2 ? shape[0] : 1;
        var columns = shape.Length >= 1 ? shape[^1] : 1;
        if (rows == 1 && columns == 1) return CShape.Scalar;
        if (rows == 1) return CShape.Row;
        if (columns == 1) return CShape.Column;
        return CShape.Full;
    }
}
