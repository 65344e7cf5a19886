using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX LogSoftmax over float32: y = x − max − log Σ exp(x − max), so large inputs neither overflow nor lose
/// the small terms. Before opset 13 the input is coerced to 2-D at 'axis' (default 1) and each row of the
/// flattened trailing dimensions is normalised together; from opset 13 only the one 'axis' (default -1).
/// </summary>
[OnnxOperator("LogSoftmax")]
internal sealed class LogSoftmaxOperator : Operator
{
    private readonly long _axis;
    private readonly bool _coerceTo2D;

    public LogSoftmaxOperator(Node node, OperatorContext context) : base(node)
    {
        _coerceTo2D = context.Opset < 13;
        _axis = node.GetInt("axis", _coerceTo2D ? 1 : -1);
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var rank = x.Rank;
        var y = Tensor<float>.Allocate(x.Shape, clear: false);
        if (x.Length == 0) return new Tensor[] { y };
        var axis = rank == 0 ? 0 : TensorShape.NormalizeAxis(_axis, rank, "LogSoftmax axis");
        var outer = TensorShape.Product(x.Shape, 0, axis);
        if (_coerceTo2D || rank == 0 || axis == rank - 1)
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
