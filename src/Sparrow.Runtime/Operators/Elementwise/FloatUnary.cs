using System.Numerics;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Elementwise;

/// <summary>An element-wise function of floating-point values, for every float element type.</summary>
internal interface IFloatFunction
{
    static abstract void Apply<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>;
}

internal readonly struct FloatFunctionKernel<T, TFunction> : IUnaryKernel<T, T>
    where T : unmanaged, IFloatingPointIeee754<T> where TFunction : IFloatFunction
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> destination) => TFunction.Apply(x, destination);
}

internal static class FloatUnary
{
    /// <summary>Transcendental functions cost enough per element to split smaller tensors across threads.</summary>
    public const int TranscendentalMinElementsPerThread = 1 << 13;

    public static Tensor Run<TFunction>(Tensor x, RunContext? context, string opType,
        int minElementsPerThread = BroadcastPlan.DefaultMinElementsPerThread) where TFunction : IFloatFunction => x.ElementType switch
    {
        DataType.Float32 => Broadcast.Unary<float, float, FloatFunctionKernel<float, TFunction>>(x.As<float>(), context, minElementsPerThread),
        DataType.Float64 => Broadcast.Unary<double, double, FloatFunctionKernel<double, TFunction>>(x.As<double>(), context, minElementsPerThread),
        DataType.Float16 => Broadcast.Unary<Half, Half, FloatFunctionKernel<Half, TFunction>>(x.As<Half>(), context, minElementsPerThread),
        _ => throw new NotSupportedException($"{opType} of element type {DataTypes.Name(x.ElementType)} is not supported; it takes float16, float32 or float64."),
    };
}
