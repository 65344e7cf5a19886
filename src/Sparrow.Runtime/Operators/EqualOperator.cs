using System.Numerics;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Equal: A == B element-wise with broadcasting, giving bool; NaN equals nothing. Strings are not supported.</summary>
[OnnxOperator("Equal")]
internal sealed class EqualOperator : Operator
{
    public EqualOperator(Node node, OperatorContext context) : base(node) => Arithmetic.RejectLegacyBroadcast(node);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var a = Required(inputs, 0);
        var b = Required(inputs, 1);
        Arithmetic.RequireSameType(a, b);
        return a.ElementType switch
        {
            DataType.Float32 => [Compare<float>(a, b, context)],
            DataType.Float64 => [Compare<double>(a, b, context)],
            DataType.Float16 => [Compare<Half>(a, b, context)],
            DataType.Int64 => [Compare<long>(a, b, context)],
            DataType.Int32 => [Compare<int>(a, b, context)],
            DataType.Int16 => [Compare<short>(a, b, context)],
            DataType.Int8 => [Compare<sbyte>(a, b, context)],
            DataType.UInt64 => [Compare<ulong>(a, b, context)],
            DataType.UInt32 => [Compare<uint>(a, b, context)],
            DataType.UInt16 => [Compare<ushort>(a, b, context)],
            DataType.UInt8 => [Compare<byte>(a, b, context)],
            DataType.Bool => [Broadcast.Binary<bool, bool, bool, BoolKernel>(a.As<bool>(), b.As<bool>(), context)],
            _ => throw new NotSupportedException($"Equal of element type {DataTypes.Name(a.ElementType)} is not supported."),
        };
    }

    private static Tensor Compare<T>(Tensor a, Tensor b, RunContext context) where T : unmanaged, IEqualityOperators<T, T, bool> =>
        Broadcast.Binary<T, T, bool, Kernel<T>>(a.As<T>(), b.As<T>(), context);

    private readonly struct Kernel<T> : IBinaryKernel<T, T, bool> where T : IEqualityOperators<T, T, bool>
    {
        public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = a[i] == b[i];
        }

        public static void Apply(ReadOnlySpan<T> a, T b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = a[i] == b;
        }

        public static void Apply(T a, ReadOnlySpan<T> b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = a == b[i];
        }
    }

    private readonly struct BoolKernel : IBinaryKernel<bool, bool, bool>
    {
        public static void Apply(ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = a[i] == b[i];
        }

        public static void Apply(ReadOnlySpan<bool> a, bool b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = a[i] == b;
        }

        public static void Apply(bool a, ReadOnlySpan<bool> b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = a == b[i];
        }
    }
}
