using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Softmax over float32 (axis handling in <see cref="AxisNormalizationOperator"/>). Rows along the last axis use <see cref="SoftmaxKernel"/> (max, exp and sum, normalise: three passes),
/// other axes work on whole inner rows at a time with TensorPrimitives.
/// </summary>
[OnnxOperator("Softmax")]
internal sealed class SoftmaxOperator : AxisNormalizationOperator
{
    public SoftmaxOperator(Node node, OperatorContext context) : base(node, context) { }

    protected override void NormalizeRows(ReadOnlySpan<float> x, Span<float> y, int cols) => LastAxis(x, y, cols);

    protected override void NormalizeAlongAxis(ReadOnlySpan<float> x, Span<float> y, int axisSize, int inner) => InnerAxis(x, y, axisSize, inner);

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
