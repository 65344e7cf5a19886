using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>Where(C, X, Y): dX = dOut where C, dY = dOut where not C, each summed to its operand's shape.</summary>
[BackwardRule("Where")]
internal sealed class WhereRule : BackwardRule
{
    /// <summary>Compiles the rule.</summary>
    public WhereRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var condition = context.Inputs[0] as Tensor<bool> ?? throw new InvalidOperationException("Where's condition must be bool.");
        var dOut = context.OutputGradient(0);
        using var c = TensorMath.Expand(condition, dOut.Shape);
        for (var operand = 1; operand <= 2; operand++)
        {
            if (!context.Needs(operand)) continue;
            using var full = Tensor<float>.Allocate(dOut.Shape, clear: false);
            ReadOnlySpan<bool> cs = c.Span;
            ReadOnlySpan<float> g = dOut.Span;
            var f = full.Span;
            var take = operand == 1;
            for (var i = 0; i < f.Length; i++) f[i] = cs[i] == take ? g[i] : 0f;
            result[operand] = TensorMath.SumTo(full, context.Inputs[operand]!.Shape);
        }
        return result;
    }
}
