using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Add (opset 7+): A + B, element-wise with ONNX broadcasting, for every numeric type.</summary>
[OnnxOperator("Add")]
internal sealed class AddOperator : Operator
{
    public AddOperator(Node node, OperatorContext context) : base(node) => Arithmetic.RejectLegacyBroadcast(node);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [Arithmetic.Run<AddOperation>(Required(inputs, 0), Required(inputs, 1), context)];
}
