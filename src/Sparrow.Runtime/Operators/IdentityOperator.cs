using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Identity: the input, as a view that shares its memory. Sequences and optionals are not supported.</summary>
[OnnxOperator("Identity")]
internal sealed class IdentityOperator : Operator
{
    public IdentityOperator(Node node, OperatorContext context) : base(node)
    {
        // The importer reads only tensor types; a graph input declared without an element type is a
        // sequence, optional or map, which would otherwise fail later with a confusing error.
        var input = node.Inputs.Count > 0 ? node.Inputs[0] : "";
        if (context.Model.Graph.Inputs.FirstOrDefault(i => i.Name == input) is { ElementType: DataType.Undefined })
            throw new NotSupportedException($"input '{input}' is not a tensor; sequence, optional and map values are not supported.");
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        return [x.Reshape(x.Shape)];
    }
}
