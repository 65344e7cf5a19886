using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>Operators that only relabel the shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity): dX is dY in X's shape.</summary>
[BackwardRule("Reshape")]
[BackwardRule("Flatten")]
[BackwardRule("Squeeze")]
[BackwardRule("Unsqueeze")]
[BackwardRule("Identity")]
internal sealed class ReshapeRule : BackwardRule
{
    /// <summary>Compiles the rule.</summary>
    public ReshapeRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (!context.Needs(0)) return result;
        var dy = context.OutputGradient(0);
        var dx = Tensor<float>.Allocate(context.Inputs[0]!.Shape, clear: false);
        dy.Span.CopyTo(dx.Span);
        result[0] = dx;
        return result;
    }
}
