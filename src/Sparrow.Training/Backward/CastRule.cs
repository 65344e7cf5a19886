using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>Cast: float32 to float32 passes the gradient through; a cast to or from another type carries none.</summary>
[BackwardRule("Cast")]
internal sealed class CastRule : BackwardRule
{
    /// <summary>Compiles the rule.</summary>
    public CastRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (!context.Needs(0) || context.Inputs[0] is not Tensor<float> || context.Outputs[0] is not Tensor<float>) return result;
        result[0] = context.OutputGradient(0).Clone();
        return result;
    }
}
