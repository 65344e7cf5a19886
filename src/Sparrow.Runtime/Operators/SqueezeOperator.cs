using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Squeeze: removes the given axes of size 1 ('axes' attribute before opset 13, optional input after),
/// or every axis of size 1 when none are given. Returns a view.
/// </summary>
[OnnxOperator("Squeeze")]
internal sealed class SqueezeOperator : Operator
{
    private readonly bool _axesFromInput;
    private readonly long[]? _axesAttribute;

    public SqueezeOperator(Node node, OperatorContext context) : base(node)
    {
        _axesFromInput = context.Opset >= 13;
        if (!_axesFromInput) _axesAttribute = node.GetInts("axes");
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        var axesTensor = _axesFromInput ? Optional(inputs, 1) : null;
        var axes = axesTensor is not null ? ShapeInputs.ReadIntegers(axesTensor, "Squeeze axes") : _axesAttribute;
        var shape = data.Shape;
        var remove = new bool[shape.Length];
        if (axes is null)
        {
            for (var i = 0; i < shape.Length; i++) remove[i] = shape[i] == 1;
        }
        else
        {
            foreach (var axis in ShapeInputs.NormalizeAxes(axes, shape.Length, "Squeeze axis"))
            {
                if (shape[axis] != 1)
                    throw new ArgumentException($"Squeeze axis {axis} has size {shape[axis]}, not 1, in shape {TensorShape.Format(shape)}.");
                remove[axis] = true;
            }
        }
        var output = new List<int>(shape.Length);
        for (var i = 0; i < shape.Length; i++) if (!remove[i]) output.Add(shape[i]);
        return new[] { data.Reshape(output.ToArray()) };
    }
}
