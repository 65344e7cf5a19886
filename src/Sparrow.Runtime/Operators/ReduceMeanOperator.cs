using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;

namespace Sparrow.Runtime.Operators;

/// <summary>ONNX ReduceMean: axes as an attribute before opset 18, as an optional input from 18; float32, float64, int32, int64.</summary>
[OnnxOperator("ReduceMean")]
internal sealed class ReduceMeanOperator : ReductionOperator
{
    public ReduceMeanOperator(Node node, OperatorContext context) : base(node, context, axesInputOpset: 18)
    {
    }

    protected override bool Mean => true;
}
