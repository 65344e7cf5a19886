using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Where (opset 9+): condition ? X : Y element-wise, the three inputs broadcast together; any element type.</summary>
[OnnxOperator("Where")]
internal sealed class WhereOperator : Operator
{
    public WhereOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var condition = Required(inputs, 0);
        var x = Required(inputs, 1);
        var y = Required(inputs, 2);
        if (condition.ElementType != DataType.Bool)
            throw new ArgumentException($"input 0 (condition) must be bool, got {DataTypes.Name(condition.ElementType)}.");
        Arithmetic.RequireSameType(x, y, 1, 2);
        return [ElementTypeDispatch.Invoke(x.ElementType, new Select(condition.As<bool>(), x, y, context))];
    }

    private readonly struct Select(Tensor<bool> condition, Tensor x, Tensor y, RunContext context) : ITypedFunction
    {
        public Tensor Invoke<T>() where T : unmanaged => Broadcast.Select(condition, x.As<T>(), y.As<T>(), context);
    }
}
