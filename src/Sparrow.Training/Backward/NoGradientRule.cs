using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>
/// Operators whose outputs carry no gradient (shapes, comparisons, constants): gradients stop here and the
/// values after them are treated as constants.
/// </summary>
[BackwardRule("Shape")]
[BackwardRule("Size")]
[BackwardRule("Constant")]
[BackwardRule("ConstantOfShape")]
[BackwardRule("Equal")]
[BackwardRule("Greater")]
[BackwardRule("Less")]
[BackwardRule("Not")]
[BackwardRule("ArgMax")]
internal sealed class NoGradientRule : BackwardRule
{
    /// <summary>Compiles the rule.</summary>
    public NoGradientRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context) => new Tensor<float>?[context.Inputs.Length];
}
