using System.Numerics;
using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ArgMax: the index (int64) of the largest element along 'axis' (default 0), the axis kept as 1 when
/// 'keepdims' (default 1); the first such index, or the last with 'select_last_index' = 1 (opset 12+).
/// A NaN counts as the largest value (numpy's argmax, the ONNX reference).
/// </summary>
[OnnxOperator("ArgMax")]
internal sealed class ArgMaxOperator : Operator
{
    private readonly long _axis;
    private readonly bool _keepDims;
    private readonly bool _selectLast;

    public ArgMaxOperator(Node node, OperatorContext context) : base(node)
    {
        _axis = node.GetInt("axis", 0);
        _keepDims = node.GetInt("keepdims", 1) != 0;
        _selectLast = node.GetInt("select_last_index", 0) != 0;
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        return x.ElementType switch
        {
            DataType.Float32 => [Reduce<float>(x)],
            DataType.Float64 => [Reduce<double>(x)],
            DataType.Float16 => [Reduce<Half>(x)],
            DataType.Int64 => [Reduce<long>(x)],
            DataType.Int32 => [Reduce<int>(x)],
            DataType.Int16 => [Reduce<short>(x)],
            DataType.Int8 => [Reduce<sbyte>(x)],
            DataType.UInt64 => [Reduce<ulong>(x)],
            DataType.UInt32 => [Reduce<uint>(x)],
            DataType.UInt16 => [Reduce<ushort>(x)],
            DataType.UInt8 => [Reduce<byte>(x)],
            _ => throw new NotSupportedException($"ArgMax of element type {DataTypes.Name(x.ElementType)} is not supported."),
        };
    }

    private Tensor<long> Reduce<T>(Tensor x) where T : unmanaged, IComparisonOperators<T, T, bool>
    {
        var rank = x.Rank;
        if (rank == 0) throw new ArgumentException("ArgMax needs an input of rank 1 or more.");
        var axis = TensorShape.NormalizeAxis(_axis, rank, "ArgMax axis");
        var size = x.Shape[axis];
        if (size == 0) throw new ArgumentException($"ArgMax over axis {axis} of size 0 has no answer.");
        var outer = TensorShape.Product(x.Shape, 0, axis);
        var inner = TensorShape.Product(x.Shape, axis + 1, rank);
        var shape = x.Shape.ToArray();
        shape[axis] = 1;
        if (!_keepDims) shape = [.. shape[..axis], .. shape[(axis + 1)..]];
        var y = Tensor<long>.Allocate(shape, clear: false);
        ReadOnlySpan<T> values = x.As<T>().Span;
        var indices = y.Span;
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < inner; i++)
            {
                var start = o * size * inner + i;
                var best = 0;
                var bestValue = values[start];
                for (var k = 1; k < size; k++)
                {
                    var v = values[start + k * inner];
                    // NaN counts as the largest value, as in numpy's argmax (the ONNX reference).
                    bool isNaN = IsNaN(v), bestIsNaN = IsNaN(bestValue);
                    if (bestIsNaN ? isNaN && _selectLast : isNaN || v > bestValue || (_selectLast && v == bestValue))
                    {
                        best = k;
                        bestValue = v;
                    }
                }
                indices[o * inner + i] = best;
            }
        return y;
    }

    private static bool IsNaN<T>(T value) where T : IComparisonOperators<T, T, bool> => Differs(value, value);

    private static bool Differs<T>(T a, T b) where T : IComparisonOperators<T, T, bool> => a != b;
}
