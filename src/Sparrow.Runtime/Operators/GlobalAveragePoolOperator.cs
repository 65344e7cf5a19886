using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Sparrow.Runtime.Operators;

/// <summary>ONNX GlobalAveragePool over float32: the mean of each [N, C] plane of any number of spatial dimensions; output [N, C, 1, ...].</summary>
[OnnxOperator("GlobalAveragePool")]
internal sealed class GlobalAveragePoolOperator : Operator
{
    public GlobalAveragePoolOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        if (x.Rank < 2)
            throw new ArgumentException($"GlobalAveragePool input has shape {TensorShape.Format(x.Shape)}; it needs rank 2 or more ([N, C, spatial...]).");
        var shape = x.CopyShape();
        for (var d = 2; d < shape.Length; d++) shape[d] = 1;
        var y = Tensor<float>.Allocate(shape, clear: false);
        var planes = shape[0] * shape[1];
        var plane = TensorShape.Product(x.Shape, 2, x.Rank);
        ParallelRows.For(planes, plane, context.Threads, (start, end) =>
        {
            var xs = x.Span;
            var ys = y.Span;
            for (var p = start; p < end; p++)
                ys[p] = plane == 0 ? float.NaN : TensorPrimitives.Sum(xs.Slice(p * plane, plane)) / plane;
        });
        return new Tensor[] { y };
    }
}
