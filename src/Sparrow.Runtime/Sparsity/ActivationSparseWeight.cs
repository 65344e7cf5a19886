using System.Buffers;
using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Sparsity;

/// <summary>
/// A constant weight with a calibrated activation threshold (<see cref="SessionOptions.ActivationThresholds"/>):
/// the constant W [K, N] (the ONNX layout, column-major for W[out, in]) packed once into aligned panels
/// (<see cref="SparseInputWeight"/>) for <see cref="SparseInputGemv"/>,
/// which runs one-row inputs skipping the columns of inputs whose magnitude is at or under the threshold.
/// Immutable, so one instance serves concurrent runs.
/// </summary>
internal sealed class ActivationSparseWeight
{
    private readonly SparseInputWeight _weight;

    private ActivationSparseWeight(SparseInputWeight weight, int inputs, int outputs, float threshold, bool everyRow)
    {
        _weight = weight;
        Inputs = inputs;
        Outputs = outputs;
        Threshold = threshold;
        EveryRow = everyRow;
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public float Threshold { get; }

    /// <summary>Inputs of more than one row are thresholded too (then run on the normal path).</summary>
    public bool EveryRow { get; }

    /// <summary>The sparse form for the node's weight input 1, or null when the session has no threshold for it.</summary>
    public static ActivationSparseWeight? TryCreate(Node node, OperatorContext context)
    {
        if (context.Options.ActivationThresholds is not { } thresholds || node.Inputs.Count < 2) return null;
        if (!thresholds.TryGetValue(node.Inputs[1], out var threshold)) return null;
        if (context.FixedConstant(node.Inputs[1]) is not Tensor<float> { Rank: 2 } w) return null;
        if (threshold < 0 || float.IsNaN(threshold))
            throw new ArgumentException($"The activation threshold of '{node.Inputs[1]}' must be 0 or more, got {threshold}.");
        return new ActivationSparseWeight(SparseInputWeight.Pack(w), w.Shape[0], w.Shape[1], threshold, context.Options.ThresholdEveryRow);
    }

    /// <summary>y[N] = act(x[K] · W + bias) for one row, skipping inputs under the threshold.</summary>
    public void MultiplyRow(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> bias, FusedActivation activation) =>
        SparseInputGemv.Multiply(x[..Inputs], _weight, y[..Outputs], bias, Threshold, activation);

    /// <summary>A pooled copy of <paramref name="rows"/> rows of x with every entry at or under the threshold set to 0; return it to the pool.</summary>
    public float[] ThresholdedCopy(ReadOnlySpan<float> x, int rows)
    {
        var length = rows * Inputs;
        var copy = ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
        for (var i = 0; i < length; i++)
        {
            var v = x[i];
            copy[i] = MathF.Abs(v) > Threshold ? v : 0f;
        }
        return copy;
    }
}
