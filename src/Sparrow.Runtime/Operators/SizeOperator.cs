using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Size: the number of elements of the input, as an int64 scalar.</summary>
[OnnxOperator("Size")]
internal sealed class SizeOperator : Operator
{
    public SizeOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [Tensor<long>.Scalar(Required(inputs, 0).Length)];
}
