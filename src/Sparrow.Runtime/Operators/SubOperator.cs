using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Sub (opset 7+): A - B, element-wise with ONNX broadcasting, for every numeric type.</summary>
[OnnxOperator("Sub")]
internal sealed class SubOperator : Operator
{
    public SubOperator(Node node, OperatorContext context) : base(node) => Arithmetic.RejectLegacyBroadcast(node);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [Arithmetic.Run<SubtractOperation>(Required(inputs, 0), Required(inputs, 1), context)];
}
