using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Identity: the input, as a view that shares its memory. Sequences and optionals are not supported.</summary>
[OnnxOperator("Identity")]
public sealed class IdentityOperator : Operator
{
    public IdentityOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        return [x.Reshape(x.Shape)];
    }
}
