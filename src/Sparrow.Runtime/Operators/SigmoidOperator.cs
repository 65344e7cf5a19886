using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Sigmoid: 1 / (1 + e^-x), element-wise (TensorPrimitives.Sigmoid, vectorised).</summary>
[OnnxOperator("Sigmoid")]
internal sealed class SigmoidOperator : Operator
{
    public SigmoidOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [FloatUnary.Run<Function>(Required(inputs, 0), context, Node.OpType, FloatUnary.TranscendentalMinElementsPerThread)];

    private readonly struct Function : IFloatFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Sigmoid(x, destination);
    }
}
