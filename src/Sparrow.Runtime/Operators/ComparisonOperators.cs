using System.Numerics;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Greater: A &gt; B element-wise with broadcasting, giving bool (NaN compares false).</summary>
[OnnxOperator("Greater")]
internal sealed class GreaterOperator : Operator
{
    public GreaterOperator(Node node, OperatorContext context) : base(node) => Arithmetic.RejectLegacyBroadcast(node);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [Comparison.Run<Comparison.Greater>(Required(inputs, 0), Required(inputs, 1), "Greater", context)];
}

/// <summary>Less: A &lt; B element-wise with broadcasting, giving bool (NaN compares false).</summary>
[OnnxOperator("Less")]
internal sealed class LessOperator : Operator
{
    public LessOperator(Node node, OperatorContext context) : base(node) => Arithmetic.RejectLegacyBroadcast(node);

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [Comparison.Run<Comparison.Less>(Required(inputs, 0), Required(inputs, 1), "Less", context)];
}

/// <summary>Ordered comparisons over the numeric element types, shared by Greater and Less.</summary>
internal static class Comparison
{
    public interface IOrder
    {
        static abstract bool Holds<T>(T a, T b) where T : IComparisonOperators<T, T, bool>;
    }

    public readonly struct Greater : IOrder
    {
        public static bool Holds<T>(T a, T b) where T : IComparisonOperators<T, T, bool> => a > b;
    }

    public readonly struct Less : IOrder
    {
        public static bool Holds<T>(T a, T b) where T : IComparisonOperators<T, T, bool> => a < b;
    }

    public static Tensor Run<TOrder>(Tensor a, Tensor b, string name, RunContext context) where TOrder : IOrder
    {
        Arithmetic.RequireSameType(a, b);
        return a.ElementType switch
        {
            DataType.Float32 => Compare<float, TOrder>(a, b, context),
            DataType.Float64 => Compare<double, TOrder>(a, b, context),
            DataType.Float16 => Compare<Half, TOrder>(a, b, context),
            DataType.Int64 => Compare<long, TOrder>(a, b, context),
            DataType.Int32 => Compare<int, TOrder>(a, b, context),
            DataType.Int16 => Compare<short, TOrder>(a, b, context),
            DataType.Int8 => Compare<sbyte, TOrder>(a, b, context),
            DataType.UInt64 => Compare<ulong, TOrder>(a, b, context),
            DataType.UInt32 => Compare<uint, TOrder>(a, b, context),
            DataType.UInt16 => Compare<ushort, TOrder>(a, b, context),
            DataType.UInt8 => Compare<byte, TOrder>(a, b, context),
            _ => throw new NotSupportedException($"{name} of element type {DataTypes.Name(a.ElementType)} is not supported."),
        };
    }

    private static Tensor Compare<T, TOrder>(Tensor a, Tensor b, RunContext context)
        where T : unmanaged, IComparisonOperators<T, T, bool> where TOrder : IOrder =>
        Broadcast.Binary<T, T, bool, Kernel<T, TOrder>>(a.As<T>(), b.As<T>(), context);

    private readonly struct Kernel<T, TOrder> : IBinaryKernel<T, T, bool>
        where T : IComparisonOperators<T, T, bool> where TOrder : IOrder
    {
        public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = TOrder.Holds(a[i], b[i]);
        }

        public static void Apply(ReadOnlySpan<T> a, T b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = TOrder.Holds(a[i], b);
        }

        public static void Apply(T a, ReadOnlySpan<T> b, Span<bool> destination)
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = TOrder.Holds(a, b[i]);
        }
    }
}
