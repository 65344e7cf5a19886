using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Not: logical negation of a bool tensor.</summary>
[OnnxOperator("Not")]
internal sealed class NotOperator : Operator
{
    public NotOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        if (x is not Tensor<bool> input) throw new ArgumentException($"Not needs a bool input, got {DataTypes.Name(x.ElementType)}.");
        var y = Tensor<bool>.Allocate(x.Shape, clear: false);
        ReadOnlySpan<bool> source = input.Span;
        var destination = y.Span;
        for (var i = 0; i < source.Length; i++) destination[i] = !source[i];
        return [y];
    }
}
