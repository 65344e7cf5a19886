using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX LogSoftmax over float32: y = x − max − log Σ exp(x − max), so large inputs neither overflow nor lose
/// the small terms (axis handling in <see cref="AxisNormalizationOperator"/>).
/// </summary>
[OnnxOperator("LogSoftmax")]
internal sealed class LogSoftmaxOperator : AxisNormalizationOperator
{
    public LogSoftmaxOperator(Node node, OperatorContext context) : base(node, context) { }

    protected override void NormalizeRows(ReadOnlySpan<float> x, Span<float> y, int cols) => LastAxis(x, y, cols);

    protected override void NormalizeAlongAxis(ReadOnlySpan<float> x, Span<float> y, int axisSize, int inner) => InnerAxis(x, y, axisSize, inner);

    /// <summary>LogSoftmax of each contiguous row of length <paramref name="cols"/>.</summary>
    internal static void LastAxis(ReadOnlySpan<float> x, Span<float> y, int cols)
    {
        var scratch = ArrayPool<float>.Shared.Rent(cols);
        try
        {
            var exp = scratch.AsSpan(0, cols);
            for (var offset = 0; offset < x.Length; offset += cols)
            {
                var row = x.Slice(offset, cols);
                var result = y.Slice(offset, cols);
                var max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, result);
                TensorPrimitives.Exp(result, exp);
                // A row of -inf (or with +inf/NaN) has a NaN max - max; it stays NaN, as the definition gives.
                TensorPrimitives.Subtract(result, MathF.Log(TensorPrimitives.Sum(exp)), result);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>LogSoftmax along the middle axis of an [axisSize, inner] block: element-wise over inner rows.</summary>
    internal static void InnerAxis(ReadOnlySpan<float> x, Span<float> y, int axisSize, int inner)
    {
        var scratch = ArrayPool<float>.Shared.Rent(3 * inner);
        try
        {
            var max = scratch.AsSpan(0, inner);
            var sum = scratch.AsSpan(inner, inner);
            var exp = scratch.AsSpan(2 * inner, inner);
            x[..inner].CopyTo(max);
            for (var r = 1; r < axisSize; r++) TensorPrimitives.Max(max, x.Slice(r * inner, inner), max);
            sum.Clear();
            for (var r = 0; r < axisSize; r++)
            {
                var result = y.Slice(r * inner, inner);
                TensorPrimitives.Subtract(x.Slice(r * inner, inner), max, result);
                TensorPrimitives.Exp(result, exp);
                TensorPrimitives.Add(sum, exp, sum);
            }
            TensorPrimitives.Log(sum, sum);
            for (var r = 0; r < axisSize; r++)
            {
                var result = y.Slice(r * inner, inner);
                TensorPrimitives.Subtract(result, sum, result);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
