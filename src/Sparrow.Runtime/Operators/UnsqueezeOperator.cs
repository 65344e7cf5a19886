using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Unsqueeze: inserts axes of size 1 at the given positions of the output ('axes' attribute before
/// opset 13, required input after; negative axes count from the output's end). Returns a view.
/// </summary>
[OnnxOperator("Unsqueeze")]
internal sealed class UnsqueezeOperator : Operator
{
    private readonly long[]? _axesAttribute;

    public UnsqueezeOperator(Node node, OperatorContext context) : base(node)
    {
        if (context.Opset < 13)
            _axesAttribute = node.GetInts("axes") ?? throw new ArgumentException("Unsqueeze needs the 'axes' attribute before opset 13.");
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        var axes = _axesAttribute ?? ShapeInputs.ReadIntegers(Required(inputs, 1), "Unsqueeze axes");
        var rank = data.Rank + axes.Length;
        var inserted = new bool[rank];
        foreach (var axis in ShapeInputs.NormalizeAxes(axes, rank, "Unsqueeze axis")) inserted[axis] = true;
        var shape = new int[rank];
        var next = 0;
        for (var i = 0; i < rank; i++) shape[i] = inserted[i] ? 1 : data.Shape[next++];
        return new[] { data.Reshape(shape) };
    }
}
