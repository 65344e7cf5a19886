using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Div (opset 7+): A / B element-wise with ONNX broadcasting, for every numeric type; integer division truncates toward zero.</summary>
[OnnxOperator("Div")]
internal sealed class DivOperator : Operator
{
    public DivOperator(Node node, OperatorContext context) : base(node) => Arithmetic.RejectLegacyBroadcast(node);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [Arithmetic.Run<DivideOperation>(Required(inputs, 0), Required(inputs, 1), context)];
}
