using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>
/// Softmax: dX = y ⊙ (dY − Σ dY·y) over the softmax axis; LogSoftmax: dX = dY − softmax · Σ dY. Before
/// opset 13 the axis coerces the input to 2-D (every dimension from the axis on is normalised together).
/// </summary>
[BackwardRule("Softmax")]
[BackwardRule("LogSoftmax")]
internal sealed class SoftmaxRule : BackwardRule
{
    private readonly bool _log;
    private readonly bool _coerceTo2D;
    private readonly long _axis;

    /// <summary>Compiles the rule.</summary>
    public SoftmaxRule(Node node, OperatorContext context) : base(node)
    {
        _log = node.OpType == "LogSoftmax";
        _coerceTo2D = context.Opset < 13;
        _axis = node.GetInt("axis", _coerceTo2D ? 1 : -1);
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (!context.Needs(0)) return result;
        var y = context.Output(0);
        var dy = context.OutputGradient(0);
        var rank = y.Rank;
        var axis = rank == 0 ? 0 : TensorShape.NormalizeAxis(_axis, rank, "softmax axis");
        int outer = TensorShape.Product(y.Shape, 0, axis), size, inner;
        if (_coerceTo2D)
        {
            size = TensorShape.Product(y.Shape, axis, rank);
            inner = 1;
        }
        else
        {
            size = rank == 0 ? 1 : y.Shape[axis];
            inner = TensorShape.Product(y.Shape, axis + 1, rank);
        }
        var dx = Tensor<float>.Allocate(y.Shape, clear: false);
        ReadOnlySpan<float> ys = y.Span, g = dy.Span;
        var d = dx.Span;
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                var start = o * size * inner + i;
                double sum = 0;
                if (_log)
                {
                    for (var k = 0; k < size; k++) sum += g[start + k * inner];
                    for (var k = 0; k < size; k++)
                    {
                        var at = start + k * inner;
                        d[at] = (float)(g[at] - Math.Exp(ys[at]) * sum);
                    }
                }
                else
                {
                    for (var k = 0; k < size; k++) sum += (double)g[start + k * inner] * ys[start + k * inner];
                    for (var k = 0; k < size; k++)
                    {
                        var at = start + k * inner;
                        d[at] = (float)(ys[at] * (g[at] - sum));
                    }
                }
            }
        }
        result[0] = dx;
        return result;
    }
}
