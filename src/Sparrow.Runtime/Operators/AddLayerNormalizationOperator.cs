using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Sparrow's fused residual + layer norm (domain "ai.sparrow", op "AddLayerNormalization"), made by the
/// AddLayerNormFusion graph pass: Y = LayerNormalization(A + B) over the last axis. Inputs A and B of one
/// shape, scale and optional bias as LayerNormalization takes them (broadcast to the last axis); attribute
/// <c>epsilon</c>. Each row's sum is formed in the output row and normalised there while it is in cache,
/// so the sum never makes a round trip through memory. Same arithmetic as Add then LayerNormalization.
/// </summary>
[OnnxOperator("AddLayerNormalization", Domain = OperatorContext.SparrowDomain)]
internal sealed class AddLayerNormalizationOperator : Operator
{
    private readonly float _epsilon;

    public AddLayerNormalizationOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count is < 3 or > 4) throw new ArgumentException($"AddLayerNormalization takes 3 or 4 inputs (A, B, scale, bias), got {node.Inputs.Count}.");
        _epsilon = node.GetFloat("epsilon", 1e-5f);
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var a = RequiredFloat(inputs, 0);
        var b = RequiredFloat(inputs, 1);
        var scaleTensor = RequiredFloat(inputs, 2);
        var biasTensor = Optional(inputs, 3) is { } t
            ? t as Tensor<float> ?? throw new NotSupportedException($"AddLayerNormalization bias is {DataTypes.Name(t.ElementType)}; only float32 is supported.")
            : null;
        if (!a.Shape.SequenceEqual(b.Shape))
            throw new InvalidOperationException($"AddLayerNormalization needs A and B of one shape, got {TensorShape.Format(a.Shape)} and {TensorShape.Format(b.Shape)}.");
        if (a.Rank == 0) throw new InvalidOperationException("AddLayerNormalization needs inputs of rank 1 or more, got scalars.");
        var normalizedShape = a.Shape[^1..];
        var cols = a.Shape[^1];
        var rows = cols == 0 ? 0 : a.Length / cols;
        var scale = LayerNormalizationOperator.ExpandTo(scaleTensor, normalizedShape, "scale");
        var bias = biasTensor is null ? null : LayerNormalizationOperator.ExpandTo(biasTensor, normalizedShape, "bias");
        var y = Tensor<float>.Allocate(a.Shape, clear: false);
        var epsilon = _epsilon;
        ParallelRows.For(rows, 3L * cols, context.Threads, (start, end) =>
        {
            var xa = a.Span;
            var xb = b.Span;
            var ys = y.Span;
            ReadOnlySpan<float> scales = scale ?? scaleTensor.Span;
            ReadOnlySpan<float> biases = bias ?? (biasTensor is null ? default : biasTensor.Span);
            for (var r = start; r < end; r++)
            {
                var row = ys.Slice(r * cols, cols);
                TensorPrimitives.Add(xa.Slice(r * cols, cols), xb.Slice(r * cols, cols), row);
                LayerNormalizationOperator.NormalizeRow(row, scales, biases, epsilon, row);
            }
        });
        return [y];
    }
}
