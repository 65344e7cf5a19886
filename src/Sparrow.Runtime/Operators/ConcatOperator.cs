using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>ONNX Concat: joins inputs of one element type along an axis (negative from opset 11); copies bytes, so any type.</summary>
[OnnxOperator("Concat")]
internal sealed class ConcatOperator : Operator
{
    private readonly long _axis;

    public ConcatOperator(Node node, OperatorContext context) : base(node) =>
        // Opsets 1-3 made axis optional with default 1; from opset 4 it is required.
        _axis = node.FindAttribute("axis")?.AsInt()
            ?? (context.Opset < 4 ? 1 : throw new ArgumentException("Concat needs the 'axis' attribute."));

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        if (inputs.Length == 0) throw new ArgumentException("Concat needs at least one input.");
        var first = Required(inputs, 0);
        var rank = first.Rank;
        if (rank == 0) throw new ArgumentException("Concat of scalars is not defined: inputs need rank 1 or more.");
        var axis = TensorShape.NormalizeAxis(_axis, rank, "Concat axis");
        var shape = first.CopyShape();
        shape[axis] = 0;
        for (var i = 0; i < inputs.Length; i++)
        {
            var t = Required(inputs, i);
            if (t.ElementType != first.ElementType)
                throw new ArgumentException($"Concat input {i} is {DataTypes.Name(t.ElementType)} but input 0 is {DataTypes.Name(first.ElementType)}.");
            if (t.Rank != rank)
                throw new ArgumentException($"Concat input {i} has shape {TensorShape.Format(t.Shape)}, rank {t.Rank}, but input 0 has rank {rank}.");
            for (var d = 0; d < rank; d++)
                if (d != axis && t.Shape[d] != first.Shape[d])
                    throw new ArgumentException($"Concat input {i} has shape {TensorShape.Format(t.Shape)}, which differs from input 0's {TensorShape.Format(first.Shape)} outside axis {axis}.");
            shape[axis] = checked(shape[axis] + t.Shape[axis]);
        }
        var output = ShapeInputs.AllocateUninitialized(first.ElementType, shape);
        var size = DataTypes.SizeOf(first.ElementType);
        var outer = TensorShape.Product(shape, 0, axis);
        var innerBytes = TensorShape.Product(shape, axis + 1, rank) * size;
        var dst = ShapeInputs.WritableBytes(output);
        var outRow = shape[axis] * innerBytes;
        var offset = 0;
        for (var i = 0; i < inputs.Length; i++)
        {
            var src = inputs[i]!.AsBytes();
            var block = inputs[i]!.Shape[axis] * innerBytes;
            if (block == 0) continue;
            for (var o = 0; o < outer; o++)
                src.Slice(o * block, block).CopyTo(dst.Slice(o * outRow + offset, block));
            offset += block;
        }
        return new[] { output };
    }
}
