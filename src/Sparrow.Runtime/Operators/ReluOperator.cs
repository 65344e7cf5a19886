using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Relu: max(x, 0) element-wise, for floats and (from opset 14) signed integers. NaN stays NaN.</summary>
[OnnxOperator("Relu")]
internal sealed class ReluOperator : Operator
{
    public ReluOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        return x.ElementType switch
        {
            DataType.Float32 => [Broadcast.Unary<float, float, Kernel<float>>(x.As<float>(), context)],
            DataType.Float64 => [Broadcast.Unary<double, double, Kernel<double>>(x.As<double>(), context)],
            DataType.Float16 => [Broadcast.Unary<Half, Half, Kernel<Half>>(x.As<Half>(), context)],
            DataType.Int64 => [Broadcast.Unary<long, long, Kernel<long>>(x.As<long>(), context)],
            DataType.Int32 => [Broadcast.Unary<int, int, Kernel<int>>(x.As<int>(), context)],
            DataType.Int16 => [Broadcast.Unary<short, short, Kernel<short>>(x.As<short>(), context)],
            DataType.Int8 => [Broadcast.Unary<sbyte, sbyte, Kernel<sbyte>>(x.As<sbyte>(), context)],
            _ => throw new NotSupportedException($"Relu of element type {DataTypes.Name(x.ElementType)} is not supported."),
        };
    }

    private readonly struct Kernel<T> : IUnaryKernel<T, T> where T : INumber<T>
    {
        public static void Apply(ReadOnlySpan<T> x, Span<T> destination) => TensorPrimitives.Max(x, T.Zero, destination);
    }
}
