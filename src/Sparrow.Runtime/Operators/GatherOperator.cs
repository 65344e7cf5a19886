using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Runtime.Operators.Shape;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Gather: picks slices of the data along an axis by int32 or int64 indices (negative count from the
/// end). Output shape = data[:axis] + indices + data[axis+1:]. Copies whole slices as bytes, so an
/// embedding lookup is one memory copy per token, and any element type works.
/// </summary>
[OnnxOperator("Gather")]
internal sealed class GatherOperator : Operator
{
    private readonly long _axis;

    public GatherOperator(Node node, OperatorContext context) : base(node) => _axis = node.GetInt("axis", 0);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        var indicesTensor = Required(inputs, 1);
        if (data.Rank == 0) throw new ArgumentException("Gather data must have rank 1 or more, got a scalar.");
        var axis = TensorShape.NormalizeAxis(_axis, data.Rank, "Gather axis");
        var axisSize = data.Shape[axis];
        var indices = NormalizeIndices(indicesTensor, axis, axisSize);

        var shape = new int[data.Rank - 1 + indicesTensor.Rank];
        data.Shape[..axis].CopyTo(shape);
        indicesTensor.Shape.CopyTo(shape.AsSpan(axis));
        data.Shape[(axis + 1)..].CopyTo(shape.AsSpan(axis + indicesTensor.Rank));
        var output = ShapeInputs.AllocateUninitialized(data.ElementType, shape);

        var size = DataTypes.SizeOf(data.ElementType);
        var outer = TensorShape.Product(data.Shape, 0, axis);
        var inner = TensorShape.Product(data.Shape, axis + 1, data.Rank);
        var src = data.AsBytes();
        var dst = ShapeInputs.WritableBytes(output);
        if (inner == 1)
        {
            switch (size)
            {
                case 1: GatherElements(src, dst, indices, outer, axisSize); break;
                case 2: GatherElements(Cast<ushort>(src), Cast<ushort>(dst), indices, outer, axisSize); break;
                case 4: GatherElements(Cast<uint>(src), Cast<uint>(dst), indices, outer, axisSize); break;
                case 8: GatherElements(Cast<ulong>(src), Cast<ulong>(dst), indices, outer, axisSize); break;
                default: throw new NotSupportedException($"Gather of {DataTypes.Name(data.ElementType)} is not supported.");
            }
            return new[] { output };
        }
        var block = inner * size;
        var next = 0;
        for (var o = 0; o < outer; o++)
        {
            var srcBase = o * axisSize * block;
            foreach (var index in indices)
            {
                src.Slice(srcBase + index * block, block).CopyTo(dst.Slice(next, block));
                next += block;
            }
        }
        return new[] { output };
    }

    private static ReadOnlySpan<T> Cast<T>(ReadOnlySpan<byte> bytes) where T : struct =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes);

    private static Span<T> Cast<T>(Span<byte> bytes) where T : struct =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes);

    private static void GatherElements<T>(ReadOnlySpan<T> src, Span<T> dst, int[] indices, int outer, int axisSize) where T : unmanaged
    {
        var next = 0;
        for (var o = 0; o < outer; o++)
        {
            var row = src.Slice(o * axisSize, axisSize);
            foreach (var index in indices) dst[next++] = row[index];
        }
    }

    /// <summary>Indices made non-negative, each checked against the axis size.</summary>
    private static int[] NormalizeIndices(Tensor indices, int axis, int axisSize)
    {
        var result = new int[indices.Length];
        switch (indices)
        {
            case Tensor<long> l:
                var ls = l.Span;
                for (var i = 0; i < ls.Length; i++) result[i] = Normalize(ls[i], axis, axisSize);
                break;
            case Tensor<int> n:
                var ns = n.Span;
                for (var i = 0; i < ns.Length; i++) result[i] = Normalize(ns[i], axis, axisSize);
                break;
            default:
                throw new ArgumentException($"Gather indices must be int32 or int64, got {DataTypes.Name(indices.ElementType)}.");
        }
        return result;
    }

    private static int Normalize(long index, int axis, int axisSize)
    {
        var i = index < 0 ? index + axisSize : index;
        if ((ulong)i >= (ulong)axisSize)
            throw new ArgumentException($"Gather index {index} is out of range for axis {axis} of size {axisSize}.");
        return (int)i;
    }
}
