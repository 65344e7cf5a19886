using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>GlobalAveragePool: every element of a plane gets its plane's gradient divided by the plane size.</summary>
[BackwardRule("GlobalAveragePool")]
internal sealed class GlobalAveragePoolRule : BackwardRule
{
    /// <summary>Compiles the rule.</summary>
    public GlobalAveragePoolRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (!context.Needs(0)) return result;
        var x = context.Input(0);
        var planes = x.Shape[0] * x.Shape[1];
        var size = x.Length / Math.Max(1, planes);
        var dx = Tensor<float>.Allocate(x.Shape, clear: false);
        ReadOnlySpan<float> g = context.OutputGradient(0).Span;
        for (var p = 0; p < planes; p++) dx.Span.Slice(p * size, size).Fill(g[p] / size);
        result[0] = dx;
        return result;
    }
}
