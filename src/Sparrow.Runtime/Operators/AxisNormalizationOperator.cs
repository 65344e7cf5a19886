using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// What Softmax and LogSoftmax share over float32: before opset 13 the input is coerced to 2-D at 'axis' (default 1)
/// and each row of the flattened trailing dimensions is normalised together; from opset 13 only the one 'axis'
/// (default -1). Contiguous rows go to <see cref="NormalizeRows"/>, a middle axis to <see cref="NormalizeAlongAxis"/>.
/// </summary>
internal abstract class AxisNormalizationOperator : Operator
{
    private readonly long _axis;
    private readonly bool _coerceTo2D;

    protected AxisNormalizationOperator(Node node, OperatorContext context) : base(node)
    {
        _coerceTo2D = context.Opset < 13;
        _axis = node.GetInt("axis", _coerceTo2D ? 1 : -1);
    }

    public sealed override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var rank = x.Rank;
        var y = Tensor<float>.Allocate(x.Shape, clear: false);
        if (x.Length == 0) return new Tensor[] { y };
        var axis = rank == 0 ? 0 : TensorShape.NormalizeAxis(_axis, rank, Node.OpType + " axis");
        var outer = TensorShape.Product(x.Shape, 0, axis);
        if (_coerceTo2D || rank == 0 || axis == rank - 1)
        {
            var cols = x.Length / outer;
            ParallelRows.For(outer, cols, context.Threads, (start, end) =>
                NormalizeRows(x.Span.Slice(start * cols, (end - start) * cols), y.Span.Slice(start * cols, (end - start) * cols), cols));
        }
        else
        {
            var axisSize = x.Shape[axis];
            var inner = TensorShape.Product(x.Shape, axis + 1, rank);
            var block = axisSize * inner;
            ParallelRows.For(outer, block, context.Threads, (start, end) =>
            {
                for (var o = start; o < end; o++)
                    NormalizeAlongAxis(x.Span.Slice(o * block, block), y.Span.Slice(o * block, block), axisSize, inner);
            });
        }
        return new Tensor[] { y };
    }

    /// <summary>Normalises each contiguous row of length <paramref name="cols"/>.</summary>
    protected abstract void NormalizeRows(ReadOnlySpan<float> x, Span<float> y, int cols);

    /// <summary>Normalises along the middle axis of an [axisSize, inner] block: element-wise over inner rows.</summary>
    protected abstract void NormalizeAlongAxis(ReadOnlySpan<float> x, Span<float> y, int axisSize, int inner);
}
