using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Elementwise;

/// <summary>One arithmetic operation for every numeric element type, in the three run layouts.</summary>
internal interface IArithmeticOperation
{
    static abstract void Apply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T>;

    static abstract void Apply<T>(ReadOnlySpan<T> a, T b, Span<T> destination) where T : INumber<T>;

    static abstract void Apply<T>(T a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T>;
}

internal readonly struct AddOperation : IArithmeticOperation
{
    public static void Apply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Add(a, b, destination);
    public static void Apply<T>(ReadOnlySpan<T> a, T b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Add(a, b, destination);
    public static void Apply<T>(T a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Add(b, a, destination);
}

internal readonly struct SubtractOperation : IArithmeticOperation
{
    public static void Apply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Subtract(a, b, destination);
    public static void Apply<T>(ReadOnlySpan<T> a, T b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Subtract(a, b, destination);
    public static void Apply<T>(T a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Subtract(a, b, destination);
}

internal readonly struct MultiplyOperation : IArithmeticOperation
{
    public static void Apply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Multiply(a, b, destination);
    public static void Apply<T>(ReadOnlySpan<T> a, T b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Multiply(a, b, destination);
    public static void Apply<T>(T a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T> => TensorPrimitives.Multiply(b, a, destination);
}

/// <summary>Division; integer division truncates toward zero (as C does) and throws on a zero divisor.</summary>
internal readonly struct DivideOperation : IArithmeticOperation
{
    public static void Apply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T>
    {
        if (IsInteger<T>()) ThrowIfZero(b);
        TensorPrimitives.Divide(a, b, destination);
    }

    public static void Apply<T>(ReadOnlySpan<T> a, T b, Span<T> destination) where T : INumber<T>
    {
        if (IsInteger<T>() && T.IsZero(b)) throw ZeroDivisor();
        TensorPrimitives.Divide(a, b, destination);
    }

    public static void Apply<T>(T a, ReadOnlySpan<T> b, Span<T> destination) where T : INumber<T>
    {
        if (IsInteger<T>()) ThrowIfZero(b);
        TensorPrimitives.Divide(a, b, destination);
    }

    private static bool IsInteger<T>() where T : INumber<T> =>
        typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(Half);

    // Vectorised integer division would otherwise return garbage for a zero divisor instead of failing.
    private static void ThrowIfZero<T>(ReadOnlySpan<T> b) where T : INumber<T>
    {
        if (b.Contains(T.Zero)) throw ZeroDivisor();
    }

    private static DivideByZeroException ZeroDivisor() => new("integer division by zero.");
}

/// <summary>Adapts an <see cref="IArithmeticOperation"/> to the driver's kernel shape for one element type.</summary>
internal readonly struct ArithmeticKernel<T, TOperation> : IBinaryKernel<T, T, T>
    where T : INumber<T> where TOperation : IArithmeticOperation
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination) => TOperation.Apply(a, b, destination);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> destination) => TOperation.Apply(a, b, destination);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> destination) => TOperation.Apply(a, b, destination);
}

/// <summary>Runs an arithmetic operation on two tensors of the same numeric element type, with broadcasting.</summary>
internal static class Arithmetic
{
    public static Tensor Run<TOperation>(Tensor a, Tensor b, RunContext? context) where TOperation : IArithmeticOperation
    {
        RequireSameType(a, b);
        return a.ElementType switch
        {
            DataType.Float32 => Run<float, TOperation>(a, b, context),
            DataType.Float64 => Run<double, TOperation>(a, b, context),
            DataType.Float16 => Run<Half, TOperation>(a, b, context),
            DataType.Int64 => Run<long, TOperation>(a, b, context),
            DataType.Int32 => Run<int, TOperation>(a, b, context),
            DataType.Int16 => Run<short, TOperation>(a, b, context),
            DataType.Int8 => Run<sbyte, TOperation>(a, b, context),
            DataType.UInt64 => Run<ulong, TOperation>(a, b, context),
            DataType.UInt32 => Run<uint, TOperation>(a, b, context),
            DataType.UInt16 => Run<ushort, TOperation>(a, b, context),
            DataType.UInt8 => Run<byte, TOperation>(a, b, context),
            _ => throw new NotSupportedException($"element type {DataTypes.Name(a.ElementType)} is not supported by this operator."),
        };
    }

    private static Tensor<T> Run<T, TOperation>(Tensor a, Tensor b, RunContext? context)
        where T : unmanaged, INumber<T> where TOperation : IArithmeticOperation =>
        Broadcast.Binary<T, T, T, ArithmeticKernel<T, TOperation>>(a.As<T>(), b.As<T>(), context);

    /// <summary>Opset 1-6 broadcast only with explicit 'broadcast'/'axis' attributes; Sparrow runs opset 7 and later.</summary>
    public static void RejectLegacyBroadcast(Sparrow.Graph.Node node)
    {
        if (node.FindAttribute("broadcast") is not null || node.FindAttribute("axis") is not null)
            throw new NotSupportedException("the 'broadcast' and 'axis' attributes of opset 6 and older are not supported; convert the model to opset 7 or later.");
    }

    /// <summary>ONNX binary operators take one element type for both sides; say which inputs disagree.</summary>
    public static void RequireSameType(Tensor a, Tensor b, int first = 0, int second = 1)
    {
        if (a.ElementType != b.ElementType)
            throw new ArgumentException(
                $"inputs {first} and {second} must have the same element type, got {DataTypes.Name(a.ElementType)} and {DataTypes.Name(b.ElementType)}.");
    }
}
