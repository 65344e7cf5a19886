using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Training.Backward;

/// <summary>
/// Sparrow's fused Linear, Y = act(X·W + b): dZ = dY·act'(Z) (Relu from Y, Gelu from Z recomputed), then
/// as MatMul and a bias sum. A pruned W gets its gradient only at its kept positions.
/// </summary>
[BackwardRule("Linear", Domain = OperatorContext.SparrowDomain)]
internal sealed class LinearRule : BackwardRule
{
    private readonly string _activation;

    /// <summary>Compiles the rule.</summary>
    public LinearRule(Node node, OperatorContext context) : base(node)
    {
        _activation = node.GetString("activation", "");
        if (_activation is not ("" or "Relu" or "Gelu")) throw new NotSupportedException($"Linear activation '{_activation}' has no backward rule.");
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var x = context.Input(0);
        var w = context.Input(1);
        var y = context.Output(0);
        var dy = context.OutputGradient(0);
        int k = w.Shape[0], n = w.Shape[1], m = x.Length / Math.Max(1, k);
        var bias = context.Inputs.Length > 2 ? context.Inputs[2] as Tensor<float> : null;
        using var dz = Tensor<float>.Allocate(y.Shape, clear: false);
        ReadOnlySpan<float> g = dy.Span, ys = y.Span;
        var d = dz.Span;
        switch (_activation)
        {
            case "":
                g.CopyTo(d);
                break;
            case "Relu":
                for (var i = 0; i < d.Length; i++) d[i] = ys[i] > 0f ? g[i] : 0f;
                break;
            default:
                var z = new float[d.Length];
                Sgemm.Multiply(m, n, k, x.Span, k, false, w.Span, n, false, z, n, columnBias: bias is null ? default : bias.Span, maxThreads: context.Threads);
                for (var i = 0; i < d.Length; i++) d[i] = g[i] * GeluRule.ExactDerivative(z[i]);
                break;
        }
        if (context.Needs(0))
        {
            var dx = Tensor<float>.Allocate(x.Shape, clear: false);
            Sgemm.Multiply(m, k, n, dz.Span, n, false, w.Span, n, true, dx.Span, k, maxThreads: context.Threads);
            result[0] = dx;
        }
        if (context.Needs(1)) result[1] = LinearGradients.Weight(x.Span, dz.Span, m, k, n, context.InputMasks[1], context);
        if (bias is not null && context.Needs(2)) result[2] = Autograd.TensorMath.SumTo(dz, bias.Shape);
        return result;
    }
}
