using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Softmax over float32. Before opset 13 the input is coerced to 2-D at 'axis' (default 1) and each
/// row of the flattened trailing dimensions is normalised; from opset 13 only the one 'axis' (default -1).
/// Rows along the last axis use <see cref="SoftmaxKernel"/> (max, exp and sum, normalise: three passes),
/// other axes work on whole inner rows at a time with TensorPrimitives.
/// </summary>
[OnnxOperator("Softmax")]
internal sealed class SoftmaxOperator : Operator
{
    private readonly long _axis;
    private readonly bool _coerceTo2D;

    public SoftmaxOperator(Node node, OperatorContext context) : base(node)
    {
        _coerceTo2D = context.Opset < 13;
        _axis = node.GetInt("axis", _coerceTo2D ? 1 : -1);
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var rank = x.Rank;
        var axis = TensorShape.NormalizeAxis(_axis, rank, "Softmax axis");
        var y = Tensor<float>.Allocate(x.Shape, clear: false);
        if (x.Length == 0) return new Tensor[] { y };
        var outer = TensorShape.Product(x.Shape, 0, axis);
        if (_coerceTo2D || axis == rank - 1 || rank == 0)
        {
            var cols = x.Length / outer;
            ParallelRows.For(outer, cols, context.Threads, (start, end) =>
                LastAxis(x.Span.Slice(start * cols, (end - start) * cols), y.Span.Slice(start * cols, (end - start) * cols), cols));
        }
        else
        {
            var axisSize = x.Shape[axis];
            var inner = TensorShape.Product(x.Shape, axis + 1, rank);
            var block = axisSize * inner;
            ParallelRows.For(outer, block, context.Threads, (start, end) =>
            {
                for (var o = start; o < end; o++)
                    InnerAxis(x.Span.Slice(o * block, block), y.Span.Slice(o * block, block), axisSize, inner);
            });
        }
        return new Tensor[] { y };
    }

    /// <summary>Softmax of each contiguous row of length <paramref name="cols"/>, by the three-pass row kernel.</summary>
    internal static void LastAxis(ReadOnlySpan<float> x, Span<float> y, int cols)
    {
        if (!x.Overlaps(y)) x.CopyTo(y);
        for (var offset = 0; offset < y.Length; offset += cols)
            SoftmaxKernel.ScaleMaskSoftmax(y.Slice(offset, cols), 1f, default, 0f);
    }

    /// <summary>Softmax along the middle axis of an [axisSize, inner] block: element-wise over inner rows.</summary>
    internal static void InnerAxis(ReadOnlySpan<float> x, Span<float> y, int axisSize, int inner)
    {
        var scratch = ArrayPool<float>.Shared.Rent(2 * inner);
        try
        {
            var max = scratch.AsSpan(0, inner);
            var sum = scratch.AsSpan(inner, inner);
            x[..inner].CopyTo(max);
            for (var r = 1; r < axisSize; r++) TensorPrimitives.Max(max, x.Slice(r * inner, inner), max);
            sum.Clear();
            for (var r = 0; r < axisSize; r++)
            {
                var result = y.Slice(r * inner, inner);
                TensorPrimitives.Subtract(x.Slice(r * inner, inner), max, result);
                TensorPrimitives.Exp(result, result);
                TensorPrimitives.Add(sum, result, sum);
            }
            for (var r = 0; r < axisSize; r++)
            {
                var result = y.Slice(r * inner, inner);
                TensorPrimitives.Divide(result, sum, result);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
