using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Sqrt: the square root, element-wise (TensorPrimitives.Sqrt, vectorised).</summary>
[OnnxOperator("Sqrt")]
internal sealed class SqrtOperator : Operator
{
    public SqrtOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [FloatUnary.Run<Function>(Required(inputs, 0), context, Node.OpType, BroadcastPlan.DefaultMinElementsPerThread)];

    private readonly struct Function : IFloatFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Sqrt(x, destination);
    }
}
