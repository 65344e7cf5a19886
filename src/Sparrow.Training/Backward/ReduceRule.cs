using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>
/// ReduceSum and ReduceMean: the output gradient, with the reduced axes restored as size 1, is broadcast back
/// over the input (divided by the count of reduced elements for the mean). Axes come from the attribute
/// (ReduceMean before opset 18, ReduceSum before 13) or the second input.
/// </summary>
[BackwardRule("ReduceSum")]
[BackwardRule("ReduceMean")]
internal sealed class ReduceRule : BackwardRule
{
    private readonly bool _mean;
    private readonly bool _axesFromInput;
    private readonly long[]? _axesAttribute;
    private readonly bool _noopWithEmptyAxes;

    /// <summary>Compiles the rule.</summary>
    public ReduceRule(Node node, OperatorContext context) : base(node)
    {
        _mean = node.OpType == "ReduceMean";
        _axesFromInput = context.Opset >= (_mean ? 18 : 13);
        if (!_axesFromInput) _axesAttribute = node.GetInts("axes");
        _noopWithEmptyAxes = node.GetInt("noop_with_empty_axes", 0) != 0;
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (!context.Needs(0)) return result;
        var x = context.Input(0);
        var dy = context.OutputGradient(0);
        var rank = x.Rank;
        long[]? axes = _axesAttribute;
        if (_axesFromInput && context.Inputs.Length > 1 && context.Inputs[1] is { } axesTensor)
            axes = axesTensor switch
            {
                Tensor<long> l => l.ToArray(),
                Tensor<int> i => i.ToArray().Select(v => (long)v).ToArray(),
                _ => throw new InvalidOperationException($"axes must be int64, got {axesTensor}."),
            };
        var keptShape = x.CopyShape();
        if (axes is null || axes.Length == 0)
        {
            if (_noopWithEmptyAxes)
            {
                result[0] = dy.Clone();
                return result;
            }
            Array.Fill(keptShape, 1);
        }
        else
            foreach (var a in axes) keptShape[TensorShape.NormalizeAxis(a, rank)] = 1;
        using var kept = dy.Reshape(keptShape);
        var dx = TensorMath.Expand(kept, x.Shape);
        if (_mean)
        {
            var count = x.Length / Math.Max(1, kept.Length);
            System.Numerics.Tensors.TensorPrimitives.Multiply(dx.Span, 1f / count, dx.Span);
        }
        result[0] = dx;
        return result;
    }
}
