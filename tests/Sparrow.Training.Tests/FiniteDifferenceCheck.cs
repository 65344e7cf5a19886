using Sparrow.Tensors;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Tests;

/// <summary>
/// Compares each parameter's analytic gradient with a central difference, for the loss Σ yᵢ·wᵢ with fixed random
/// weights w over the output y (so every output element counts), summed in double.
/// </summary>
internal static class FiniteDifferenceCheck
{
    /// <summary>Checks about <paramref name="samplesPerParameter"/> positions of every parameter; returns how many were checked.</summary>
    public static int Run(TrainingGraph graph, IReadOnlyDictionary<string, Tensor> inputs, string output, int seed, int samplesPerParameter,
        double absoluteTolerance, double relativeTolerance, string label = "")
    {
        double[] weights;
        using (var pass = graph.Forward(inputs))
        {
            var y = pass.FloatValue(output);
            var random = new Random(seed);
            weights = Enumerable.Range(0, y.Length).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            pass.Backward(output, Tensor<float>.FromArray(weights.Select(w => (float)w).ToArray(), y.CopyShape()));
        }
        double Loss()
        {
            using var pass = graph.Forward(inputs);
            var y = pass.FloatValue(output).Span;
            double sum = 0;
            for (var i = 0; i < y.Length; i++) sum += y[i] * weights[i];
            return sum;
        }
        const float Epsilon = 1e-2f;
        var checkedCount = 0;
        foreach (var parameter in graph.Parameters)
        {
            var values = parameter.Value.Span;
            var step = Math.Max(1, values.Length / samplesPerParameter);
            for (var i = 0; i < values.Length; i += step)
            {
                var original = values[i];
                values[i] = original + Epsilon;
                var plus = Loss();
                values[i] = original - Epsilon;
                var minus = Loss();
                values[i] = original;
                var numeric = (plus - minus) / (2.0 * Epsilon);
                var analytic = (double)parameter.Gradient[i];
                var tolerance = absoluteTolerance + relativeTolerance * Math.Max(Math.Abs(numeric), Math.Abs(analytic));
                Assert.True(Math.Abs(numeric - analytic) <= tolerance,
                    $"{label}d/d{parameter.Name}[{i}] analytic {analytic:G6}, numeric {numeric:G6}");
                checkedCount++;
            }
        }
        return checkedCount;
    }
}
