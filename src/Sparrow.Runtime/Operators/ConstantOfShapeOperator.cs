using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>ConstantOfShape (opset 9+): a tensor of the shape in input 0 filled with the one-element 'value' attribute (default float32 0).</summary>
[OnnxOperator("ConstantOfShape")]
internal sealed class ConstantOfShapeOperator : Operator
{
    private readonly Tensor _value;

    public ConstantOfShapeOperator(Node node, OperatorContext context) : base(node)
    {
        var attribute = node.FindAttribute("value");
        if (attribute is null)
        {
            _value = Tensor<float>.Scalar(0f);
            return;
        }
        var value = attribute.AsTensor();
        if (value.Length != 1)
            throw new ArgumentException($"attribute 'value' must hold exactly one element, got shape {TensorShape.Format(value.Shape)}.");
        _value = value.Reshape(ReadOnlySpan<int>.Empty);
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var shape = ShapeInput.Read(Required(inputs, 0), "input 0 (shape)");
        return [ElementTypeDispatch.Invoke(_value.ElementType, new Fill(_value, shape, context))];
    }

    private readonly struct Fill(Tensor value, int[] shape, RunContext context) : ITypedFunction
    {
        public Tensor Invoke<T>() where T : unmanaged => Broadcast.To(value.As<T>(), shape, context);
    }
}
