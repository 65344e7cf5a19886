using System.Numerics.Tensors;

namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>Limited-memory BFGS with a backtracking (Armijo) line search, for smooth convex losses.</summary>
internal static class Lbfgs
{
    /// <summary>Computes the loss at the parameters and writes its gradient.</summary>
    public delegate double Objective(double[] parameters, double[] gradient);

    /// <summary>
    /// Minimises <paramref name="objective"/> from <paramref name="parameters"/> (updated in place) until the gradient's
    /// largest component falls below <paramref name="tolerance"/>, the loss stops falling, or the iterations run out.
    /// </summary>
    public static (int Iterations, double Loss, double GradientNorm) Minimise(Objective objective, double[] parameters, int maxIterations, double tolerance, int memory = 10)
    {
        var n = parameters.Length;
        var gradient = new double[n];
        var loss = objective(parameters, gradient);
        var s = new List<double[]>();
        var y = new List<double[]>();
        var rho = new List<double>();
        var direction = new double[n];
        var trial = new double[n];
        var trialGradient = new double[n];
        var alpha = new double[memory];
        var iteration = 0;
        for (; iteration < maxIterations; iteration++)
        {
            if (Math.Abs(TensorPrimitives.MaxMagnitude<double>(gradient)) < tolerance) break;

            // Two-loop recursion: direction = −H·g with the stored curvature pairs.
            gradient.CopyTo(direction, 0);
            for (var k = s.Count - 1; k >= 0; k--)
            {
                alpha[k] = rho[k] * TensorPrimitives.Dot<double>(s[k], direction);
                TensorPrimitives.MultiplyAdd<double>(y[k], -alpha[k], direction, direction);
            }
            if (s.Count > 0)
            {
                var last = s.Count - 1;
                TensorPrimitives.Multiply<double>(direction, TensorPrimitives.Dot<double>(s[last], y[last]) / TensorPrimitives.Dot<double>(y[last], y[last]), direction);
            }
            else
            {
                // First step: a gradient step of unit length, since nothing is known of the curvature yet.
                TensorPrimitives.Multiply<double>(direction, 1.0 / Math.Max(TensorPrimitives.Norm<double>(gradient), 1e-300), direction);
            }
            for (var k = 0; k < s.Count; k++)
            {
                var beta = rho[k] * TensorPrimitives.Dot<double>(y[k], direction);
                TensorPrimitives.MultiplyAdd<double>(s[k], alpha[k] - beta, direction, direction);
            }
            TensorPrimitives.Negate<double>(direction, direction);

            var slope = TensorPrimitives.Dot<double>(gradient, direction);
            if (slope >= 0)
            {
                // Not a descent direction (numerical trouble): forget the history and go down the gradient.
                s.Clear(); y.Clear(); rho.Clear();
                TensorPrimitives.Multiply<double>(gradient, -1.0 / Math.Max(TensorPrimitives.Norm<double>(gradient), 1e-300), direction);
                slope = TensorPrimitives.Dot<double>(gradient, direction);
            }

            var step = 1.0;
            double trialLoss;
            while (true)
            {
                TensorPrimitives.MultiplyAdd<double>(direction, step, parameters, trial);
                trialLoss = objective(trial, trialGradient);
                if (trialLoss <= loss + 1e-4 * step * slope || step < 1e-12) break;
                step *= 0.5;
            }
            if (!(trialLoss < loss)) break; // no progress possible at this precision

            var sNew = new double[n];
            var yNew = new double[n];
            TensorPrimitives.Subtract<double>(trial, parameters, sNew);
            TensorPrimitives.Subtract<double>(trialGradient, gradient, yNew);
            var curvature = TensorPrimitives.Dot<double>(sNew, yNew);
            if (curvature > 1e-12)
            {
                if (s.Count == memory) { s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0); }
                s.Add(sNew); y.Add(yNew); rho.Add(1.0 / curvature);
            }
            var previous = loss;
            trial.CopyTo(parameters, 0);
            trialGradient.CopyTo(gradient, 0);
            loss = trialLoss;
            if (previous - loss <= 1e-12 * Math.Max(1.0, Math.Abs(loss))) { iteration++; break; }
        }
        return (iteration, loss, Math.Abs(TensorPrimitives.MaxMagnitude<double>(gradient)));
    }
}
