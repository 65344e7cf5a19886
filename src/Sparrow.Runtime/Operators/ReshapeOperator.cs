using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Reshape: the new shape from the second input (opset 5+) or the 'shape' attribute (opset 1);
/// 0 copies the input's dimension unless allowzero=1 (opset 14), -1 is inferred. Returns a view, never a copy.
/// </summary>
[OnnxOperator("Reshape")]
internal sealed class ReshapeOperator : Operator
{
    private readonly bool _allowZero;
    private readonly long[]? _shapeAttribute;

    public ReshapeOperator(Node node, OperatorContext context) : base(node)
    {
        _allowZero = node.GetInt("allowzero", 0) != 0;
        if (context.Opset < 5) _shapeAttribute = node.GetInts("shape");
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        var requested = _shapeAttribute ?? ShapeInputs.ReadIntegers(Required(inputs, 1), "Reshape shape");
        return new[] { data.Reshape(ResolveShape(data.Shape, requested, _allowZero)) };
    }

    public static int[] ResolveShape(ReadOnlySpan<int> inputShape, ReadOnlySpan<long> requested, bool allowZero)
    {
        var shape = new int[requested.Length];
        var inferAt = -1;
        long known = 1;
        for (var i = 0; i < requested.Length; i++)
        {
            var v = requested[i];
            if (v == -1)
            {
                if (inferAt >= 0)
                    throw new ArgumentException($"Reshape shape {ShapeInputs.Format(requested)} has more than one -1.");
                inferAt = i;
                continue;
            }
            if (v == 0 && !allowZero)
            {
                if (i >= inputShape.Length)
                    throw new ArgumentException($"Reshape shape {ShapeInputs.Format(requested)} has 0 at position {i}, but the input {TensorShape.Format(inputShape)} has no dimension there to copy.");
                v = inputShape[i];
            }
            if (v < 0 || v > int.MaxValue)
                throw new ArgumentException($"Reshape shape {ShapeInputs.Format(requested)} has an invalid dimension {requested[i]}.");
            shape[i] = (int)v;
            known *= v;
            if (known > TensorShape.MaxElements) known = TensorShape.MaxElements + 1;
        }
        var total = TensorShape.Product(inputShape);
        if (inferAt >= 0)
        {
            if (known == 0 || total % known != 0)
                throw new ArgumentException($"Cannot reshape {TensorShape.Format(inputShape)} ({total} elements) to {ShapeInputs.Format(requested)}: the -1 dimension cannot be inferred.");
            shape[inferAt] = (int)(total / known);
        }
        else if (known != total)
        {
            throw new ArgumentException($"Cannot reshape {TensorShape.Format(inputShape)} ({total} elements) to {ShapeInputs.Format(requested)} ({known} elements).");
        }
        return shape;
    }
}
