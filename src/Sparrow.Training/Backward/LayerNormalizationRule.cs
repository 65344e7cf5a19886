using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>
/// LayerNormalization (X, Scale, B; axis, epsilon): normalised over the dimensions from the axis on. The mean
/// and inverse standard deviation are recomputed (in double) rather than kept.
/// dScale = Σ dY·x̂, dB = Σ dY, dX = σ⁻¹ (g − mean(g) − x̂ · mean(g·x̂)) with g = dY·Scale.
/// </summary>
[BackwardRule("LayerNormalization")]
internal sealed class LayerNormalizationRule : BackwardRule
{
    private readonly long _axis;
    private readonly float _epsilon;

    /// <summary>Compiles the rule.</summary>
    public LayerNormalizationRule(Node node, OperatorContext context) : base(node)
    {
        _axis = node.GetInt("axis", -1);
        _epsilon = node.GetFloat("epsilon", 1e-5f);
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var x = context.Input(0);
        var scale = context.Input(1);
        var dy = context.OutputGradient(0);
        var axis = TensorShape.NormalizeAxis(_axis, x.Rank);
        var rows = TensorShape.Product(x.Shape, 0, axis);
        var size = TensorShape.Product(x.Shape, axis, x.Rank);
        var normalizedShape = x.Shape[axis..].ToArray();
        using var fullScale = TensorMath.Expand(scale, normalizedShape);
        var dScale = new double[size];
        var dBias = new double[size];
        var dx = context.Needs(0) ? Tensor<float>.Allocate(x.Shape, clear: false) : null;
        ReadOnlySpan<float> xs = x.Span, g = dy.Span, s = fullScale.Span;
        var xhat = new double[size];
        var gs = new double[size];
        for (var r = 0; r < rows; r++)
        {
            var row = xs.Slice(r * size, size);
            var grad = g.Slice(r * size, size);
            double mean = 0;
            for (var i = 0; i < size; i++) mean += row[i];
            mean /= size;
            double variance = 0;
            for (var i = 0; i < size; i++) variance += (row[i] - mean) * (row[i] - mean);
            variance /= size;
            var inverse = 1.0 / Math.Sqrt(variance + _epsilon);
            double meanG = 0, meanGx = 0;
            for (var i = 0; i < size; i++)
            {
                xhat[i] = (row[i] - mean) * inverse;
                dScale[i] += grad[i] * xhat[i];
                dBias[i] += grad[i];
                gs[i] = grad[i] * s[i];
                meanG += gs[i];
                meanGx += gs[i] * xhat[i];
            }
            if (dx is null) continue;
            meanG /= size;
            meanGx /= size;
            var d = dx.Span.Slice(r * size, size);
            for (var i = 0; i < size; i++) d[i] = (float)(inverse * (gs[i] - meanG - xhat[i] * meanGx));
        }
        result[0] = dx;
        if (context.Needs(1)) result[1] = SumToParameter(dScale, normalizedShape, scale.Shape);
        if (context.Needs(2)) result[2] = SumToParameter(dBias, normalizedShape, context.Input(2).Shape);
        return result;
    }

    private static Tensor<float> SumToParameter(double[] values, int[] normalizedShape, ReadOnlySpan<int> shape)
    {
        using var full = Tensor<float>.FromArray(values.Select(v => (float)v).ToArray(), normalizedShape);
        return TensorMath.SumTo(full, shape);
    }
}
