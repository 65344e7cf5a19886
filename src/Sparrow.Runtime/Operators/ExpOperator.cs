using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Exp: e to the power x, element-wise (TensorPrimitives.Exp, vectorised).</summary>
[OnnxOperator("Exp")]
internal sealed class ExpOperator : Operator
{
    public ExpOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [FloatUnary.Run<Function>(Required(inputs, 0), context, Node.OpType, FloatUnary.TranscendentalMinElementsPerThread)];

    private readonly struct Function : IFloatFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Exp(x, destination);
    }
}
