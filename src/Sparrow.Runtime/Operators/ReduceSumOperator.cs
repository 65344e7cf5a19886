using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;

namespace Sparrow.Runtime.Operators;

/// <summary>ONNX ReduceSum: axes as an attribute before opset 13, as an optional input from 13; float32, float64, int32, int64.</summary>
[OnnxOperator("ReduceSum")]
internal sealed class ReduceSumOperator : ReductionOperator
{
    public ReduceSumOperator(Node node, OperatorContext context) : base(node, context, axesInputOpset: 13)
    {
    }

    protected override bool Mean => false;
}
