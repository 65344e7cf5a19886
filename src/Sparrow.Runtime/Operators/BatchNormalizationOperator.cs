using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX BatchNormalization over float32 X of shape [N, C, ...] with per-channel scale, bias, mean and
/// variance. Inference folds them into y = x * a + b per channel. training_mode=1 (opset 14+) normalises
/// with the batch's own mean and (population) variance and returns the updated running mean and variance.
/// </summary>
[OnnxOperator("BatchNormalization")]
internal sealed class BatchNormalizationOperator : Operator
{
    private readonly float _epsilon;
    private readonly float _momentum;
    private readonly bool _training;

    public BatchNormalizationOperator(Node node, OperatorContext context) : base(node)
    {
        _epsilon = node.GetFloat("epsilon", 1e-5f);
        _momentum = node.GetFloat("momentum", 0.9f);
        _training = node.GetInt("training_mode", 0) != 0;
        if (node.GetInt("spatial", 1) == 0)
            throw new NotSupportedException("BatchNormalization spatial=0 (per-activation statistics) is not supported.");
        if (context.Opset < 14 && node.Outputs.Skip(1).Any(o => o.Length > 0))
            throw new NotSupportedException("BatchNormalization training outputs before opset 14 (saved mean and variance) are not supported.");
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        if (x.Rank < 2)
            throw new ArgumentException($"BatchNormalization input has shape {TensorShape.Format(x.Shape)}; it needs rank 2 or more ([N, C, ...]).");
        var batch = x.Shape[0];
        var channels = x.Shape[1];
        var plane = TensorShape.Product(x.Shape, 2, x.Rank);
        var scale = ChannelVector(inputs, 1, "scale", channels);
        var bias = ChannelVector(inputs, 2, "B", channels);
        var mean = ChannelVector(inputs, 3, "input_mean", channels);
        var variance = ChannelVector(inputs, 4, "input_var", channels);

        Tensor<float>? runningMean = null, runningVariance = null;
        if (_training)
        {
            // Batch statistics over every axis but the channel one.
            var count = (float)batch * plane;
            var batchMean = new float[channels];
            var batchVariance = new float[channels];
            var xs = x.Span;
            for (var c = 0; c < channels; c++)
            {
                var sum = 0f;
                for (var n = 0; n < batch; n++) sum += TensorPrimitives.Sum(xs.Slice((n * channels + c) * plane, plane));
                var m = sum / count;
                var squares = 0f;
                for (var n = 0; n < batch; n++)
                    foreach (var v in xs.Slice((n * channels + c) * plane, plane)) squares += (v - m) * (v - m);
                batchMean[c] = m;
                batchVariance[c] = squares / count;
            }
            runningMean = Tensor<float>.Allocate([channels], clear: false);
            runningVariance = Tensor<float>.Allocate([channels], clear: false);
            for (var c = 0; c < channels; c++)
            {
                runningMean.Span[c] = mean[c] * _momentum + batchMean[c] * (1 - _momentum);
                runningVariance.Span[c] = variance[c] * _momentum + batchVariance[c] * (1 - _momentum);
            }
            mean = batchMean;
            variance = batchVariance;
        }

        var multiplier = new float[channels];
        var shift = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            multiplier[c] = scale[c] / MathF.Sqrt(variance[c] + _epsilon);
            shift[c] = bias[c] - mean[c] * multiplier[c];
        }
        var y = Tensor<float>.Allocate(x.Shape, clear: false);
        ParallelRows.For(batch * channels, plane, context.Threads, (start, end) =>
        {
            var xs = x.Span;
            var ys = y.Span;
            for (var p = start; p < end; p++)
            {
                var c = p % channels;
                var target = ys.Slice(p * plane, plane);
                TensorPrimitives.Multiply(xs.Slice(p * plane, plane), multiplier[c], target);
                TensorPrimitives.Add(target, shift[c], target);
            }
        });
        if (!_training) return new Tensor[] { y };
        return new Tensor[] { y, runningMean!, runningVariance! };
    }

    private float[] ChannelVector(ReadOnlySpan<Tensor?> inputs, int index, string name, int channels)
    {
        var t = RequiredFloat(inputs, index);
        if (t.Length != channels || t.Rank != 1)
            throw new ArgumentException($"BatchNormalization {name} has shape {TensorShape.Format(t.Shape)}; expected [{channels}] (one value per channel of X).");
        return t.ToArray();
    }
}
