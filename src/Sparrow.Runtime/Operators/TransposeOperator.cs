using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>ONNX Transpose (all opsets): permutes axes, default reversed; any element type.</summary>
[OnnxOperator("Transpose")]
internal sealed class TransposeOperator : Operator
{
    private readonly long[]? _perm;

    public TransposeOperator(Node node, OperatorContext context) : base(node) => _perm = node.GetInts("perm");

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        var perm = TransposeKernel.ResolvePermutation(_perm, data.Rank);
        var output = ShapeInputs.AllocateUninitialized(data.ElementType, TransposeKernel.OutputShape(data.Shape, perm));
        TransposeKernel.Transpose(data, output, perm);
        return new[] { output };
    }
}
