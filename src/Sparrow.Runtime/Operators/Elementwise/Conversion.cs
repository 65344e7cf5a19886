using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Elementwise;

/// <summary>Numeric conversion as a C cast: floats to integers truncate toward zero, integers wrap.</summary>
internal readonly struct ConvertKernel<TFrom, TTo> : IUnaryKernel<TFrom, TTo>
    where TFrom : INumberBase<TFrom> where TTo : INumberBase<TTo>
{
    public static void Apply(ReadOnlySpan<TFrom> x, Span<TTo> destination) => TensorPrimitives.ConvertTruncating(x, destination);
}

/// <summary>Any non-zero value (NaN included) is true, as static_cast&lt;bool&gt; does.</summary>
internal readonly struct ToBoolKernel<TFrom> : IUnaryKernel<TFrom, bool> where TFrom : INumberBase<TFrom>
{
    public static void Apply(ReadOnlySpan<TFrom> x, Span<bool> destination)
    {
        for (var i = 0; i < x.Length; i++) destination[i] = !TFrom.IsZero(x[i]);
    }
}

internal readonly struct BoolToByteKernel : IUnaryKernel<bool, byte>
{
    public static void Apply(ReadOnlySpan<bool> x, Span<byte> destination)
    {
        for (var i = 0; i < x.Length; i++) destination[i] = x[i] ? (byte)1 : (byte)0;
    }
}

/// <summary>Element type conversion between every type a <see cref="Tensor"/> holds (Cast, Pow's exponent).</summary>
internal static class Conversion
{
    /// <summary>A new tensor of type <paramref name="to"/>; a copy when the type already matches.</summary>
    public static Tensor Convert(Tensor x, DataType to, RunContext? context)
    {
        if (!DataTypes.IsSupported(to) || to == DataType.String)
            throw new NotSupportedException($"conversion to element type {DataTypes.Name(to)} is not supported.");
        if (x.ElementType == to) return x.Clone();
        switch (x.ElementType)
        {
            case DataType.Float32: return From(x.As<float>(), to, context);
            case DataType.Float64: return From(x.As<double>(), to, context);
            case DataType.Float16: return From(x.As<Half>(), to, context);
            case DataType.Int64: return From(x.As<long>(), to, context);
            case DataType.Int32: return From(x.As<int>(), to, context);
            case DataType.Int16: return From(x.As<short>(), to, context);
            case DataType.Int8: return From(x.As<sbyte>(), to, context);
            case DataType.UInt64: return From(x.As<ulong>(), to, context);
            case DataType.UInt32: return From(x.As<uint>(), to, context);
            case DataType.UInt16: return From(x.As<ushort>(), to, context);
            case DataType.UInt8: return From(x.As<byte>(), to, context);
            case DataType.Bool:
                using (var bytes = Broadcast.Unary<bool, byte, BoolToByteKernel>(x.As<bool>(), context))
                    return to == DataType.UInt8 ? bytes.Clone() : From(bytes, to, context);
            default:
                throw new NotSupportedException($"conversion from element type {DataTypes.Name(x.ElementType)} is not supported.");
        }
    }

    private static Tensor From<TFrom>(Tensor<TFrom> x, DataType to, RunContext? context)
        where TFrom : unmanaged, INumberBase<TFrom> => to switch
    {
        DataType.Float32 => Broadcast.Unary<TFrom, float, ConvertKernel<TFrom, float>>(x, context),
        DataType.Float64 => Broadcast.Unary<TFrom, double, ConvertKernel<TFrom, double>>(x, context),
        DataType.Float16 => Broadcast.Unary<TFrom, Half, ConvertKernel<TFrom, Half>>(x, context),
        DataType.Int64 => Broadcast.Unary<TFrom, long, ConvertKernel<TFrom, long>>(x, context),
        DataType.Int32 => Broadcast.Unary<TFrom, int, ConvertKernel<TFrom, int>>(x, context),
        DataType.Int16 => Broadcast.Unary<TFrom, short, ConvertKernel<TFrom, short>>(x, context),
        DataType.Int8 => Broadcast.Unary<TFrom, sbyte, ConvertKernel<TFrom, sbyte>>(x, context),
        DataType.UInt64 => Broadcast.Unary<TFrom, ulong, ConvertKernel<TFrom, ulong>>(x, context),
        DataType.UInt32 => Broadcast.Unary<TFrom, uint, ConvertKernel<TFrom, uint>>(x, context),
        DataType.UInt16 => Broadcast.Unary<TFrom, ushort, ConvertKernel<TFrom, ushort>>(x, context),
        DataType.UInt8 => Broadcast.Unary<TFrom, byte, ConvertKernel<TFrom, byte>>(x, context),
        DataType.Bool => Broadcast.Unary<TFrom, bool, ToBoolKernel<TFrom>>(x, context),
        _ => throw new NotSupportedException($"conversion to element type {DataTypes.Name(to)} is not supported."),
    };
}
