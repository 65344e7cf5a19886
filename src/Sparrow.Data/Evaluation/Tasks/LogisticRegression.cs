using System.Numerics.Tensors;

namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>
/// Multinomial logistic regression (softmax) on standardised features, with L2 regularisation of the weights,
/// fitted by L-BFGS on the full batch. The loss is convex, so the fit is the same optimum whatever the start;
/// everything runs in one thread in a fixed order, so it is deterministic.
/// </summary>
internal sealed class LogisticRegression
{
    private readonly double[] _mean;
    private readonly double[] _scale;
    private readonly double[] _weights; // [classes, features], row-major
    private readonly double[] _bias;

    private LogisticRegression(double[] mean, double[] scale, double[] weights, double[] bias, int classes, int iterations, double loss, double gradientNorm)
    {
        _mean = mean;
        _scale = scale;
        _weights = weights;
        _bias = bias;
        Classes = classes;
        Iterations = iterations;
        Loss = loss;
        GradientNorm = gradientNorm;
    }

    public int Classes { get; }

    public int Features => _mean.Length;

    /// <summary>L-BFGS iterations the fit took.</summary>
    public int Iterations { get; }

    /// <summary>The regularised mean cross-entropy at the end of the fit.</summary>
    public double Loss { get; }

    /// <summary>The largest absolute component of the loss gradient at the end (near zero when converged).</summary>
    public double GradientNorm { get; }

    /// <summary>
    /// Fits the model: minimises mean cross-entropy + (<paramref name="l2"/>/2)·‖W‖² (the bias is not regularised)
    /// until the gradient's largest component is below <paramref name="tolerance"/> or <paramref name="maxIterations"/>.
    /// </summary>
    public static LogisticRegression Fit(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes, double l2 = 1e-2,
        int maxIterations = 500, double tolerance = 1e-5)
    {
        if (features.Count == 0) throw new ArgumentException("No training items.", nameof(features));
        if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature rows but {labels.Count} labels.", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(l2);
        var dim = features[0].Length;
        if (features.Any(f => f.Length != dim)) throw new ArgumentException("Feature rows differ in length.", nameof(features));
        if (labels.Any(l => (uint)l >= (uint)classes)) throw new ArgumentException($"A label lies outside 0..{classes - 1}.", nameof(labels));

        var (mean, scale) = Standardisation(features, dim);
        var x = features.Select(f => Standardise(f, mean, scale)).ToArray();
        var problem = new Problem(x, labels.ToArray(), classes, dim, l2);
        var parameters = new double[classes * dim + classes];
        var (iterations, loss, gradientNorm) = Lbfgs.Minimise(problem.LossAndGradient, parameters, maxIterations, tolerance);
        return new LogisticRegression(mean, scale, parameters[..(classes * dim)], parameters[(classes * dim)..], classes, iterations, loss, gradientNorm);
    }

    /// <summary>The class scores (logits) of one item.</summary>
    public double[] Scores(float[] features)
    {
        if (features.Length != Features) throw new ArgumentException($"Expected {Features} features, got {features.Length}.", nameof(features));
        var x = Standardise(features, _mean, _scale);
        var scores = new double[Classes];
        for (var c = 0; c < Classes; c++) scores[c] = TensorPrimitives.Dot<double>(_weights.AsSpan(c * Features, Features), x) + _bias[c];
        return scores;
    }

    /// <summary>The most likely class (the lowest index on a tie).</summary>
    public int Predict(float[] features)
    {
        var scores = Scores(features);
        var best = 0;
        for (var c = 1; c < scores.Length; c++) if (scores[c] > scores[best]) best = c;
        return best;
    }

    /// <summary>The share of items whose predicted class is their label.</summary>
    public double Accuracy(IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
    {
        if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature rows but {labels.Count} labels.", nameof(labels));
        if (features.Count == 0) throw new ArgumentException("No items to score.", nameof(features));
        var correct = 0;
        for (var i = 0; i < features.Count; i++) if (Predict(features[i]) == labels[i]) correct++;
        return (double)correct / features.Count;
    }

    /// <summary>
    /// Mean cross-entropy (negative log-likelihood of the labels, natural log): a smooth score of the predicted
    /// probabilities, where accuracy moves in steps of one item.
    /// </summary>
    public double LogLoss(IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
    {
        if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature rows but {labels.Count} labels.", nameof(labels));
        if (features.Count == 0) throw new ArgumentException("No items to score.", nameof(features));
        var total = 0.0;
        for (var i = 0; i < features.Count; i++)
        {
            var scores = Scores(features[i]);
            var max = scores.Max();
            var sum = 0.0;
            foreach (var s in scores) sum += Math.Exp(s - max);
            total += max + Math.Log(sum) - scores[labels[i]];
        }
        return total / features.Count;
    }

    private static (double[] Mean, double[] Scale) Standardisation(IReadOnlyList<float[]> features, int dim)
    {
        var mean = new double[dim];
        var variance = new double[dim];
        foreach (var f in features) for (var j = 0; j < dim; j++) mean[j] += f[j];
        for (var j = 0; j < dim; j++) mean[j] /= features.Count;
        foreach (var f in features)
            for (var j = 0; j < dim; j++) variance[j] += (f[j] - mean[j]) * (f[j] - mean[j]);
        // A constant feature carries nothing; scale 1 keeps it at zero instead of dividing by zero.
        var scale = variance.Select(v => Math.Sqrt(v / features.Count) is var sd && sd > 1e-12 ? sd : 1.0).ToArray();
        return (mean, scale);
    }

    private static double[] Standardise(float[] f, double[] mean, double[] scale)
    {
        var x = new double[f.Length];
        for (var j = 0; j < f.Length; j++) x[j] = (f[j] - mean[j]) / scale[j];
        return x;
    }

    /// <summary>The regularised softmax loss over the parameters [W (classes × dim), b (classes)].</summary>
    private sealed class Problem(double[][] x, int[] y, int classes, int dim, double l2)
    {
        public double LossAndGradient(double[] parameters, double[] gradient)
        {
            Array.Clear(gradient);
            var weights = parameters.AsSpan(0, classes * dim);
            var bias = parameters.AsSpan(classes * dim);
            var weightGradient = gradient.AsSpan(0, classes * dim);
            var biasGradient = gradient.AsSpan(classes * dim);
            var scores = new double[classes];
            var loss = 0.0;
            for (var i = 0; i < x.Length; i++)
            {
                for (var c = 0; c < classes; c++) scores[c] = TensorPrimitives.Dot<double>(weights.Slice(c * dim, dim), x[i]) + bias[c];
                var max = scores.Max();
                var sum = 0.0;
                for (var c = 0; c < classes; c++) sum += Math.Exp(scores[c] - max);
                var logSum = max + Math.Log(sum);
                loss += logSum - scores[y[i]];
                for (var c = 0; c < classes; c++)
                {
                    // d loss / d score_c = softmax_c − [c = label]
                    var delta = (Math.Exp(scores[c] - logSum) - (c == y[i] ? 1.0 : 0.0)) / x.Length;
                    TensorPrimitives.MultiplyAdd<double>(x[i], delta, weightGradient.Slice(c * dim, dim), weightGradient.Slice(c * dim, dim));
                    biasGradient[c] += delta;
                }
            }
            loss /= x.Length;
            loss += 0.5 * l2 * TensorPrimitives.Dot<double>(weights, weights);
            TensorPrimitives.MultiplyAdd<double>(weights, l2, weightGradient, weightGradient);
            return loss;
        }
    }
}
