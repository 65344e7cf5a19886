using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Tanh: the hyperbolic tangent, element-wise (TensorPrimitives.Tanh, vectorised).</summary>
[OnnxOperator("Tanh")]
public sealed class TanhOperator : Operator
{
    public TanhOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [FloatUnary.Run<Function>(Required(inputs, 0), context, Node.OpType, FloatUnary.TranscendentalMinElementsPerThread)];

    private readonly struct Function : IFloatFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> destination) where T : IFloatingPointIeee754<T> =>
            TensorPrimitives.Tanh(x, destination);
    }
}
