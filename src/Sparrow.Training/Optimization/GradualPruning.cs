using Sparrow.Training.Autograd;

namespace Sparrow.Training.Optimization;

/// <summary>
/// Gradual magnitude pruning with the cubic schedule of Zhu &amp; Gupta (2017):
/// s_t = s_f + (s_0 − s_f)(1 − (t − t_0)/(n Δt))³ for t_0 ≤ t ≤ t_0 + n Δt, pruning every Δt steps. At each
/// pruning step every chosen parameter gets the s_t fraction of its smallest-magnitude weights masked
/// (unstructured, per layer; positions pruned before stay pruned, so masks only grow). Call
/// <see cref="Apply"/> before each training step.
/// </summary>
public sealed class GradualPruning
{
    /// <param name="initialSparsity">s_0, the sparsity at the first pruning step.</param>
    /// <param name="finalSparsity">s_f, reached at step t_0 + n Δt.</param>
    /// <param name="startStep">t_0.</param>
    /// <param name="pruningSteps">n, the number of pruning steps.</param>
    /// <param name="interval">Δt, steps between pruning steps.</param>
    public GradualPruning(double initialSparsity, double finalSparsity, long startStep, int pruningSteps, int interval)
    {
        if (initialSparsity is < 0 or >= 1 || finalSparsity is < 0 or >= 1 || finalSparsity < initialSparsity)
            throw new ArgumentException($"Sparsities must satisfy 0 <= s0 <= sf < 1, got s0 = {initialSparsity}, sf = {finalSparsity}.");
        ArgumentOutOfRangeException.ThrowIfNegative(startStep);
        ArgumentOutOfRangeException.ThrowIfLessThan(pruningSteps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, 1);
        InitialSparsity = initialSparsity;
        FinalSparsity = finalSparsity;
        StartStep = startStep;
        PruningSteps = pruningSteps;
        Interval = interval;
    }

    /// <summary>s_0.</summary>
    public double InitialSparsity { get; }

    /// <summary>s_f.</summary>
    public double FinalSparsity { get; }

    /// <summary>t_0.</summary>
    public long StartStep { get; }

    /// <summary>n.</summary>
    public int PruningSteps { get; }

    /// <summary>Δt.</summary>
    public int Interval { get; }

    /// <summary>The target sparsity at step <paramref name="step"/> (0 before t_0, s_f after the last pruning step).</summary>
    public double Sparsity(long step)
    {
        if (step < StartStep) return 0;
        var progress = Math.Min(1.0, (double)(step - StartStep) / ((double)PruningSteps * Interval));
        var remaining = 1 - progress;
        return FinalSparsity + (InitialSparsity - FinalSparsity) * remaining * remaining * remaining;
    }

    /// <summary>Whether <paramref name="step"/> is a pruning step.</summary>
    public bool IsPruningStep(long step) =>
        step >= StartStep && step <= StartStep + (long)PruningSteps * Interval && (step - StartStep) % Interval == 0;

    /// <summary>On a pruning step, masks the smallest weights of each parameter up to the scheduled sparsity; returns whether it pruned.</summary>
    public bool Apply(long step, IEnumerable<Parameter> parameters)
    {
        if (!IsPruningStep(step)) return false;
        var sparsity = Sparsity(step);
        foreach (var p in parameters) Prune(p, sparsity);
        return true;
    }

    /// <summary>Masks the <paramref name="sparsity"/> fraction of smallest-magnitude weights (ties by position), keeping earlier prunes.</summary>
    public static void Prune(Parameter parameter, double sparsity)
    {
        var values = parameter.Value.Span;
        var keep = new bool[values.Length];
        var order = new int[values.Length];
        var keys = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            order[i] = i;
            // Positions pruned before sort first, so a mask never shrinks.
            keys[i] = parameter.Mask is { } mask && !mask.IsKept(i) ? -1f : MathF.Abs(values[i]);
            keep[i] = true;
        }
        Array.Sort(keys, order);
        var count = (int)Math.Round(sparsity * values.Length);
        for (var i = 0; i < count; i++) keep[order[i]] = false;
        if (parameter.Mask is { } previous)
            for (var i = 0; i < keep.Length; i++) keep[i] &= previous.IsKept(i);
        parameter.Mask = new ParameterMask(keep, parameter.Value.Shape);
        parameter.Mask.ZeroPruned(values);
    }
}
