using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Pow (opset 7+): X ^ Y element-wise with broadcasting; the output has X's type. From opset 12 Y may have
/// another numeric type. Float bases use the C library's pow (as ONNX Runtime does); integer bases with
/// integer exponents multiply exactly (wrapping on overflow); integer bases with float exponents go
/// through double and truncate.
/// </summary>
[OnnxOperator("Pow")]
internal sealed class PowOperator : Operator
{
    public PowOperator(Node node, OperatorContext context) : base(node) => Arithmetic.RejectLegacyBroadcast(node);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        var y = Required(inputs, 1);
        return x.ElementType switch
        {
            DataType.Float32 => [FloatBase<float>(x.As<float>(), y, context)],
            DataType.Float64 => [FloatBase<double>(x.As<double>(), y, context)],
            DataType.Float16 => [FloatBase<Half>(x.As<Half>(), y, context)],
            DataType.Int64 => [IntegerBase<long>(x.As<long>(), y, context)],
            DataType.Int32 => [IntegerBase<int>(x.As<int>(), y, context)],
            DataType.Int16 => [IntegerBase<short>(x.As<short>(), y, context)],
            DataType.Int8 => [IntegerBase<sbyte>(x.As<sbyte>(), y, context)],
            DataType.UInt64 => [IntegerBase<ulong>(x.As<ulong>(), y, context)],
            DataType.UInt32 => [IntegerBase<uint>(x.As<uint>(), y, context)],
            DataType.UInt16 => [IntegerBase<ushort>(x.As<ushort>(), y, context)],
            DataType.UInt8 => [IntegerBase<byte>(x.As<byte>(), y, context)],
            _ => throw new NotSupportedException($"Pow of element type {DataTypes.Name(x.ElementType)} is not supported."),
        };
    }

    private static Tensor FloatBase<T>(Tensor<T> x, Tensor y, RunContext context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireNumeric(y);
        using var exponent = (Tensor<T>)(y.ElementType == x.ElementType ? y.Reshape(y.Shape) : Conversion.Convert(y, x.ElementType, context));
        // x^2 (LayerNorm's variance) is exactly x*x and vectorises, where pow does not.
        if (exponent.Length == 1 && exponent.Rank <= x.Rank && exponent.Span[0] == T.CreateTruncating(2))
            return Broadcast.Unary<T, T, SquareKernel<T>>(x, context);
        return Broadcast.Binary<T, T, T, FloatPowKernel<T>>(x, exponent, context);
    }

    private static Tensor IntegerBase<T>(Tensor<T> x, Tensor y, RunContext context)
        where T : unmanaged, IBinaryInteger<T>
    {
        RequireNumeric(y);
        if (y.ElementType is DataType.Float32 or DataType.Float64 or DataType.Float16)
        {
            using var real = (Tensor<double>)Conversion.Convert(y, DataType.Float64, context);
            return Broadcast.Binary<T, double, T, RealExponentKernel<T>>(x, real, context);
        }
        using var integer = (Tensor<long>)(y.ElementType == DataType.Int64 ? y.Reshape(y.Shape) : Conversion.Convert(y, DataType.Int64, context));
        return Broadcast.Binary<T, long, T, IntegerExponentKernel<T>>(x, integer, context);
    }

    private static void RequireNumeric(Tensor y)
    {
        if (y.ElementType == DataType.Bool)
            throw new NotSupportedException("a bool exponent (input 1) is not supported.");
    }

    private readonly struct SquareKernel<T> : IUnaryKernel<T, T> where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, Span<T> destination) => TensorPrimitives.Multiply(x, x, destination);
    }

    private readonly struct FloatPowKernel<T> : IBinaryKernel<T, T, T> where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination) => TensorPrimitives.Pow(a, b, destination);
        public static void Apply(ReadOnlySpan<T> a, T b, Span<T> destination) => TensorPrimitives.Pow(a, b, destination);
        public static void Apply(T a, ReadOnlySpan<T> b, Span<T> destination) => TensorPrimitives.Pow(a, b, destination);
    }

    private readonly struct IntegerExponentKernel<T> : IBinaryKernel<T, long, T> where T : IBinaryInteger<T>
    {
        public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<long> b, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = IntegerPower(a[i], b[i]);
        }

        public static void Apply(ReadOnlySpan<T> a, long b, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = IntegerPower(a[i], b);
        }

        public static void Apply(T a, ReadOnlySpan<long> b, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = IntegerPower(a, b[i]);
        }
    }

    private readonly struct RealExponentKernel<T> : IBinaryKernel<T, double, T> where T : IBinaryInteger<T>
    {
        public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<double> b, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = RealPower(a[i], b[i]);
        }

        public static void Apply(ReadOnlySpan<T> a, double b, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = RealPower(a[i], b);
        }

        public static void Apply(T a, ReadOnlySpan<double> b, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = RealPower(a, b[i]);
        }
    }

    /// <summary>Exact integer power by repeated squaring; overflow wraps. Negative exponents give 1/x^n truncated.</summary>
    internal static T IntegerPower<T>(T x, long exponent) where T : IBinaryInteger<T>
    {
        if (exponent < 0)
        {
            if (x == T.One) return T.One;
            if (T.IsNegative(x) && x == T.Zero - T.One) return (exponent & 1) == 0 ? T.One : x;
            return T.Zero;
        }
        var result = T.One;
        var power = x;
        for (var e = (ulong)exponent; e != 0; e >>= 1)
        {
            if ((e & 1) != 0) result *= power;
            power *= power;
        }
        return result;
    }

    private static T RealPower<T>(T x, double exponent) where T : IBinaryInteger<T> =>
        T.CreateTruncating(Math.Pow(double.CreateTruncating(x), exponent));
}
