using Sparrow.Tensors;

namespace Sparrow.Training.Optimization;

/// <summary>
/// Loss functions on a model output: each returns the batch-mean loss (accumulated in double) and writes the
/// gradient of that mean with respect to the output.
/// </summary>
public static class Losses
{
    /// <summary>Softmax cross-entropy of logits [batch, classes] against class labels.</summary>
    public static double CrossEntropy(Tensor<float> logits, ReadOnlySpan<int> labels, Span<float> gradient)
    {
        var (batch, classes) = Rows(logits, labels.Length);
        ReadOnlySpan<float> z = logits.Span;
        double total = 0;
        var probabilities = new double[classes];
        for (var b = 0; b < batch; b++)
        {
            var row = z.Slice(b * classes, classes);
            var label = labels[b];
            if ((uint)label >= (uint)classes) throw new ArgumentException($"Label {label} of example {b} is outside 0..{classes - 1}.");
            var logSum = Softmax(row, 1.0, probabilities);
            total += logSum - row[label];
            for (var c = 0; c < classes; c++) gradient[b * classes + c] = (float)((probabilities[c] - (c == label ? 1 : 0)) / batch);
        }
        return total / batch;
    }

    /// <summary>Mean squared error over every element (hidden-state distillation passes the teacher's state as the target).</summary>
    public static double MeanSquaredError(Tensor<float> output, ReadOnlySpan<float> target, Span<float> gradient)
    {
        ReadOnlySpan<float> y = output.Span;
        if (target.Length != y.Length) throw new ArgumentException($"The target has {target.Length} values, the output {y.Length}.");
        double total = 0;
        for (var i = 0; i < y.Length; i++)
        {
            var d = (double)y[i] - target[i];
            total += d * d;
            gradient[i] = (float)(2 * d / y.Length);
        }
        return total / Math.Max(1, y.Length);
    }

    /// <summary>
    /// Knowledge distillation (Hinton et al.): T² · KL(softmax(teacher/T) ‖ softmax(student/T)), batch mean.
    /// The T² keeps the gradient's size independent of the temperature.
    /// </summary>
    public static double Distillation(Tensor<float> studentLogits, ReadOnlySpan<float> teacherLogits, double temperature, Span<float> gradient)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(temperature);
        if (teacherLogits.Length != studentLogits.Length) throw new ArgumentException("The teacher's and the student's logits differ in size.");
        var (batch, classes) = Rows(studentLogits, -1);
        ReadOnlySpan<float> s = studentLogits.Span;
        var p = new double[classes];
        var q = new double[classes];
        double total = 0;
        for (var b = 0; b < batch; b++)
        {
            var logQ = Softmax(s.Slice(b * classes, classes), 1 / temperature, q);
            var logP = Softmax(teacherLogits.Slice(b * classes, classes), 1 / temperature, p);
            for (var c = 0; c < classes; c++)
            {
                if (p[c] > 0)
                    total += p[c] * ((teacherLogits[b * classes + c] / temperature - logP) - (s[b * classes + c] / temperature - logQ));
                gradient[b * classes + c] = (float)(temperature * (q[c] - p[c]) / batch);
            }
        }
        return temperature * temperature * total / batch;
    }

    /// <summary>Softmax of row·scale into probabilities; returns log Σ exp(row·scale).</summary>
    private static double Softmax(ReadOnlySpan<float> row, double scale, double[] probabilities)
    {
        double max = double.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v * scale);
        double sum = 0;
        for (var c = 0; c < row.Length; c++) sum += probabilities[c] = Math.Exp(row[c] * scale - max);
        for (var c = 0; c < row.Length; c++) probabilities[c] /= sum;
        return max + Math.Log(sum);
    }

    private static (int Batch, int Classes) Rows(Tensor<float> logits, int expectedBatch)
    {
        if (logits.Rank < 1) throw new ArgumentException("Logits need a batch dimension.");
        var batch = logits.Shape[0];
        if (expectedBatch >= 0 && batch != expectedBatch) throw new ArgumentException($"{expectedBatch} labels for a batch of {batch}.");
        return (batch, logits.Length / Math.Max(1, batch));
    }
}
