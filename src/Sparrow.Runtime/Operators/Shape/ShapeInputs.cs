using System.Runtime.InteropServices;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Shape;

/// <summary>Reading shape-like inputs (axes, starts, shapes) and handling axes lists, shared by the shape operators.</summary>
internal static class ShapeInputs
{
    /// <summary>The values of an int64 or int32 tensor, with an error naming the input when it has another type.</summary>
    public static long[] ReadIntegers(Tensor tensor, string what)
    {
        switch (tensor)
        {
            case Tensor<long> l:
                return l.ToArray();
            case Tensor<int> i:
                var span = i.Span;
                var values = new long[span.Length];
                for (var k = 0; k < span.Length; k++) values[k] = span[k];
                return values;
            default:
                throw new ArgumentException($"{what} must be int64 or int32, got {DataTypes.Name(tensor.ElementType)}.");
        }
    }

    /// <summary>Axes made non-negative against <paramref name="rank"/>; errors on an axis out of range or repeated.</summary>
    public static int[] NormalizeAxes(ReadOnlySpan<long> axes, int rank, string what = "axis")
    {
        var result = new int[axes.Length];
        for (var i = 0; i < axes.Length; i++)
        {
            var a = axes[i] < 0 ? axes[i] + rank : axes[i];
            if (a < 0 || a >= rank)
                throw new ArgumentException($"{what} {axes[i]} is out of range for rank {rank}.");
            result[i] = (int)a;
            for (var j = 0; j < i; j++)
                if (result[j] == result[i])
                    throw new ArgumentException($"{what} {axes[i]} is repeated in [{string.Join(",", axes.ToArray())}].");
        }
        return result;
    }

    /// <summary>The bytes of a tensor this operator has just allocated, for writing. Tensors are dense, so this is safe.</summary>
    public static Span<byte> WritableBytes(Tensor tensor)
    {
        var bytes = tensor.AsBytes();
        return MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(bytes), bytes.Length);
    }

    /// <summary>An uninitialised tensor of a run-time element type, for outputs whose every element is written.</summary>
    public static Tensor AllocateUninitialized(DataType type, ReadOnlySpan<int> shape) => type switch
    {
        DataType.Float32 => Tensor<float>.Allocate(shape, clear: false),
        DataType.Int64 => Tensor<long>.Allocate(shape, clear: false),
        DataType.Int32 => Tensor<int>.Allocate(shape, clear: false),
        DataType.Bool => Tensor<bool>.Allocate(shape, clear: false),
        DataType.Float64 => Tensor<double>.Allocate(shape, clear: false),
        DataType.UInt8 => Tensor<byte>.Allocate(shape, clear: false),
        DataType.Int8 => Tensor<sbyte>.Allocate(shape, clear: false),
        DataType.Int16 => Tensor<short>.Allocate(shape, clear: false),
        DataType.UInt16 => Tensor<ushort>.Allocate(shape, clear: false),
        DataType.UInt32 => Tensor<uint>.Allocate(shape, clear: false),
        DataType.UInt64 => Tensor<ulong>.Allocate(shape, clear: false),
        DataType.Float16 => Tensor<Half>.Allocate(shape, clear: false),
        _ => throw new NotSupportedException($"Element type {DataTypes.Name(type)} is not supported."),
    };

    public static string Format(ReadOnlySpan<long> values) => "[" + string.Join(",", values.ToArray()) + "]";
}
