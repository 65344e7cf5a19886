using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>ONNX Flatten: a 2-D view [product of dims before axis, product of the rest]; axis may be negative from opset 11.</summary>
[OnnxOperator("Flatten")]
internal sealed class FlattenOperator : Operator
{
    private readonly long _axis;

    public FlattenOperator(Node node, OperatorContext context) : base(node) => _axis = node.GetInt("axis", 1);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        var rank = data.Rank;
        var axis = _axis < 0 ? _axis + rank : _axis;
        if (axis < 0 || axis > rank)
            throw new ArgumentException($"Flatten axis {_axis} is out of range for rank {rank} (allowed {-rank}..{rank}).");
        var outer = TensorShape.Product(data.Shape[..(int)axis]);
        var inner = TensorShape.Product(data.Shape[(int)axis..]);
        return new[] { data.Reshape(new[] { outer, inner }) };
    }
}
