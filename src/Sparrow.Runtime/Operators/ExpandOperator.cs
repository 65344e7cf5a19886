using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Expand (opset 8+): the input broadcast with the shape given in input 1. The broadcast goes both ways,
/// as in numpy: a 1 in the shape keeps the input's dimension, so the output may be larger than the shape.
/// </summary>
[OnnxOperator("Expand")]
internal sealed class ExpandOperator : Operator
{
    public ExpandOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        var shape = ShapeInput.Read(Required(inputs, 1), "input 1 (shape)");
        var output = TensorShape.TryBroadcast(x.Shape, shape) ?? throw new ArgumentException(
            $"input shape {TensorShape.Format(x.Shape)} cannot be expanded to {TensorShape.Format(shape)}.");
        return [ElementTypeDispatch.Invoke(x.ElementType, new ExpandTo(x, output, context))];
    }

    private readonly struct ExpandTo(Tensor x, int[] shape, RunContext context) : ITypedFunction
    {
        public Tensor Invoke<T>() where T : unmanaged => Broadcast.To(x.As<T>(), shape, context);
    }
}
