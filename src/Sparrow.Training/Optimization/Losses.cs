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

    /// <summary>
    /// The mixture-of-experts load-balancing loss (Switch Transformer), coefficient · E · Σ_e f_e · P_e, over router
    /// logits [..., E] (the MoE node's router_logits output; every position of the leading dimensions is a token).
    /// f_e is the fraction of the tokens' top-<paramref name="k"/> choices that go to expert e (Σ f = 1; ties
    /// to the lower index, as the operator routes) and P_e the mean router probability of e. Perfect balance gives
    /// coefficient · 1. f is piecewise constant, so the gradient flows through P only. Returns the weighted loss and
    /// writes its gradient with respect to the logits.
    /// </summary>
    public static double LoadBalancing(Tensor<float> routerLogits, int k, double coefficient, Span<float> gradient)
    {
        var (tokens, experts) = RouterRows(routerLogits, gradient);
        if (k < 1 || k > experts) throw new ArgumentException($"k = {k} must be between 1 and the {experts} experts.");
        ReadOnlySpan<float> z = routerLogits.Span;
        var probabilities = new double[tokens * experts];
        var fraction = new double[experts];
        var meanProbability = new double[experts];
        var row = new double[experts];
        var order = new int[experts];
        for (var t = 0; t < tokens; t++)
        {
            Softmax(z.Slice(t * experts, experts), 1.0, row);
            row.CopyTo(probabilities, t * experts);
            for (var e = 0; e < experts; e++)
            {
                meanProbability[e] += row[e] / tokens;
                order[e] = e;
            }
            // Top-k by probability, ties to the lower index: a stable sort by descending probability.
            var keys = row.Select(v => -v).ToArray();
            Array.Sort(keys, order);
            FixTies(keys, order);
            for (var j = 0; j < k; j++) fraction[order[j]] += 1.0 / ((double)tokens * k);
        }
        double loss = 0;
        for (var e = 0; e < experts; e++) loss += fraction[e] * meanProbability[e];
        loss *= experts * coefficient;
        // dLoss/dp_te = coefficient · E · f_e / T; then through each token's softmax.
        for (var t = 0; t < tokens; t++)
        {
            double dot = 0;
            for (var e = 0; e < experts; e++) dot += probabilities[t * experts + e] * fraction[e];
            for (var e = 0; e < experts; e++)
                gradient[t * experts + e] = (float)(coefficient * experts / tokens * probabilities[t * experts + e] * (fraction[e] - dot));
        }
        return loss;
    }

    /// <summary>
    /// The router z-loss (ST-MoE), coefficient · mean over tokens of (log Σ_e exp(logit_e))², which keeps router
    /// logits small. Over router logits [..., E]. Returns the weighted loss and writes its gradient.
    /// </summary>
    public static double RouterZLoss(Tensor<float> routerLogits, double coefficient, Span<float> gradient)
    {
        var (tokens, experts) = RouterRows(routerLogits, gradient);
        ReadOnlySpan<float> z = routerLogits.Span;
        var row = new double[experts];
        double total = 0;
        for (var t = 0; t < tokens; t++)
        {
            var logSum = Softmax(z.Slice(t * experts, experts), 1.0, row);
            total += logSum * logSum;
            for (var e = 0; e < experts; e++) gradient[t * experts + e] = (float)(coefficient * 2 * logSum * row[e] / tokens);
        }
        return coefficient * total / Math.Max(1, tokens);
    }

    /// <summary>Array.Sort is not stable: among equal keys, put the lower index first.</summary>
    private static void FixTies(double[] keys, int[] order)
    {
        for (int start = 0, end; start < keys.Length; start = end)
        {
            for (end = start + 1; end < keys.Length && keys[end] == keys[start]; end++) { }
            if (end - start > 1) Array.Sort(order, start, end - start);
        }
    }

    private static (int Tokens, int Experts) RouterRows(Tensor<float> routerLogits, Span<float> gradient)
    {
        ArgumentNullException.ThrowIfNull(routerLogits);
        if (routerLogits.Rank < 1 || routerLogits.Shape[^1] < 1) throw new ArgumentException("Router logits need a last dimension of experts.");
        if (gradient.Length != routerLogits.Length) throw new ArgumentException($"The gradient has {gradient.Length} values, the logits {routerLogits.Length}.");
        var experts = routerLogits.Shape[^1];
        return (routerLogits.Length / experts, experts);
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
