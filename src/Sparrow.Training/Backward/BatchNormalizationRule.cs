using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>
/// BatchNormalization in inference form (running statistics are constants, as in recovery fine-tuning):
/// dX = dY·scale/√(var+ε), dScale = Σ dY·x̂, dB = Σ dY per channel; mean and var get no gradient.
/// </summary>
[BackwardRule("BatchNormalization")]
internal sealed class BatchNormalizationRule : BackwardRule
{
    private readonly float _epsilon;

    /// <summary>Compiles the rule.</summary>
    public BatchNormalizationRule(Node node, OperatorContext context) : base(node)
    {
        _epsilon = node.GetFloat("epsilon", 1e-5f);
        if (node.GetInt("training_mode", 0) != 0) throw new NotSupportedException("BatchNormalization with training_mode=1 has no backward rule.");
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var x = context.Input(0);
        ReadOnlySpan<float> scale = context.Input(1).Span, mean = context.Input(3).Span, variance = context.Input(4).Span;
        ReadOnlySpan<float> g = context.OutputGradient(0).Span, xs = x.Span;
        int batch = x.Shape[0], channels = x.Rank > 1 ? x.Shape[1] : 1, size = x.Length / Math.Max(1, batch * channels);
        var dx = context.Needs(0) ? Tensor<float>.Allocate(x.Shape, clear: false) : null;
        var dScale = new float[channels];
        var dBias = new float[channels];
        for (var n = 0; n < batch; n++)
            for (var c = 0; c < channels; c++)
            {
                var inverse = 1f / MathF.Sqrt(variance[c] + _epsilon);
                var start = (n * channels + c) * size;
                double sumG = 0, sumGx = 0;
                for (var i = start; i < start + size; i++)
                {
                    sumG += g[i];
                    sumGx += g[i] * (xs[i] - mean[c]) * inverse;
                    if (dx is not null) dx.Span[i] = g[i] * scale[c] * inverse;
                }
                dScale[c] += (float)sumGx;
                dBias[c] += (float)sumG;
            }
        result[0] = dx;
        if (context.Needs(1)) result[1] = Tensor<float>.FromArray(dScale, context.Inputs[1]!.CopyShape());
        if (context.Needs(2)) result[2] = Tensor<float>.FromArray(dBias, context.Inputs[2]!.CopyShape());
        return result;
    }
}
