using Sparrow.Training.Autograd;

namespace Sparrow.Training.Optimization;

/// <summary>Gradient clipping by the global norm over all parameters.</summary>
public static class GradientClipping
{
    /// <summary>The L2 norm of all gradients together (accumulated in double).</summary>
    public static double GlobalNorm(IEnumerable<Parameter> parameters)
    {
        double sum = 0;
        foreach (var p in parameters)
            foreach (var g in p.Gradient) sum += (double)g * g;
        return Math.Sqrt(sum);
    }

    /// <summary>Scales every gradient by maxNorm / norm when the global norm exceeds <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double ClipGlobalNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNorm);
        var norm = GlobalNorm(parameters);
        if (norm > maxNorm)
        {
            var scale = (float)(maxNorm / norm);
            foreach (var p in parameters)
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.Gradient, scale, p.Gradient);
        }
        return norm;
    }
}
