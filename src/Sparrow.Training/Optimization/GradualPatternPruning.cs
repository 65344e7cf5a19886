using Sparrow.Graph;
using Sparrow.Pruning;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Optimization;

/// <summary>
/// Gradual magnitude pruning (the cubic schedule of <see cref="GradualPruning"/>) for every pattern of the
/// pruning library: unstructured, N:M and blocks. Masks are chosen by <see cref="MaskSelector"/> on |w| in the
/// weight's [out, in] layout (<see cref="WeightLayout"/>), so N:M groups and blocks are the ones the sparse
/// kernels and one-shot pruning use. Positions pruned before score below every kept one, so masks only grow.
/// </summary>
/// <remarks>
/// Unstructured and blocks: at each pruning step ⌊s_t · units⌋ of the lowest-scoring weights (blocks, scored by
/// the sum of |w|) are pruned per layer. N:M fixes the final sparsity at 1 − N/M, and a group of M can only lose
/// whole weights, so the schedule runs from s_0 to 1 − N/M and at step t every group keeps
/// N_t = max(N, M − ⌊s_t · M⌋) weights: the mask is N_t:M at each step (sparsity (M − N_t)/M, the schedule's
/// rounded down to a multiple of 1/M) and N:M from the last pruning step on.
/// </remarks>
public sealed class GradualPatternPruning
{
    /// <param name="pattern">The pattern to reach.</param>
    /// <param name="schedule">The cubic schedule; for N:M its final sparsity must be 1 − N/M.</param>
    public GradualPatternPruning(PruningPattern pattern, GradualPruning schedule)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(schedule);
        if (pattern.ImpliedSparsity is { } implied && Math.Abs(implied - schedule.FinalSparsity) > 1e-9)
            throw new ArgumentException($"Pattern {pattern} ends at sparsity {implied:0.###}; the schedule ends at {schedule.FinalSparsity}.");
        Pattern = pattern;
        Schedule = schedule;
    }

    /// <summary>A gradual N:M schedule from <paramref name="initialSparsity"/> to 1 − N/M.</summary>
    public static GradualPatternPruning NM(int n, int m, double initialSparsity, long startStep, int pruningSteps, int interval) =>
        new(PruningPattern.NM(n, m), new GradualPruning(initialSparsity, 1 - (double)n / m, startStep, pruningSteps, interval));

    /// <summary>The pattern reached at the end.</summary>
    public PruningPattern Pattern { get; }

    /// <summary>The cubic schedule.</summary>
    public GradualPruning Schedule { get; }

    /// <summary>For N:M: the weights each group of M keeps at <paramref name="step"/> (M before any pruning); else 0.</summary>
    public int KeptPerGroup(long step)
    {
        if (Pattern.Kind != PatternKind.NM) return 0;
        var pruned = (int)Math.Floor(Schedule.Sparsity(step) * Pattern.M + 1e-9);
        return Math.Max(Pattern.N, Pattern.M - pruned);
    }

    /// <summary>The sparsity the pattern allows at <paramref name="step"/>: the schedule's, or for N:M (M − N_t)/M.</summary>
    public double TargetSparsity(long step) =>
        Pattern.Kind == PatternKind.NM ? (double)(Pattern.M - KeptPerGroup(step)) / Pattern.M : Schedule.Sparsity(step);

    /// <summary>
    /// On a pruning step, masks each of <paramref name="parameters"/> (weights of MatMul, Gemm or Conv nodes of
    /// <paramref name="graph"/>) to the pattern at the scheduled sparsity; returns whether it pruned.
    /// </summary>
    public bool Apply(long step, TrainingGraph graph, IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (!Schedule.IsPruningStep(step)) return false;
        foreach (var p in parameters) Prune(p, TargetOf(graph.Model.Graph, p.Name), step);
        return true;
    }

    /// <summary>The pruning target (weight and the node that multiplies by it) of a parameter, so that its [out, in] layout is known.</summary>
    public static PruningTarget TargetOf(ModelGraph graph, string weightName)
    {
        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length != 0 || node.Inputs.Count < 2 || node.Inputs[1] != weightName) continue;
            var shape = graph.Initializers[weightName].CopyShape();
            switch (node.OpType)
            {
                case "MatMul" when shape.Length == 2: return new PruningTarget(weightName, node, shape, 0);
                case "Gemm": return new PruningTarget(weightName, node, shape, node.GetInt("transB", 0) == 1 ? 1 : 0);
                case "Conv": return new PruningTarget(weightName, node, shape, 1);
            }
        }
        throw new ArgumentException($"'{weightName}' is not the weight of a MatMul, Gemm or Conv node, so it has no [out, in] layout to prune in a pattern.");
    }

    private void Prune(Parameter parameter, PruningTarget target, long step)
    {
        var (rows, columns) = WeightLayout.OutByInShape(target);
        Pattern.CheckFits(target.WeightName, rows, columns);
        var stored = parameter.Value.Span;
        var scores = new float[stored.Length];
        for (var i = 0; i < stored.Length; i++)
            // Pruned positions score below every kept one (|w| ≥ 0), so they are chosen again and a mask never shrinks.
            scores[i] = parameter.Mask is { } mask && !mask.IsKept(i) ? -1f : MathF.Abs(stored[i]);
        var outByIn = WeightLayout.ToOutByIn(target, scores);
        bool[] keepOutByIn;
        if (Pattern.Kind == PatternKind.NM)
        {
            var kept = KeptPerGroup(step);
            if (kept >= Pattern.M) return;
            keepOutByIn = MaskSelector.Select(outByIn, rows, columns, PruningPattern.NM(kept, Pattern.M), 1 - (double)kept / Pattern.M, name: target.WeightName);
        }
        else keepOutByIn = MaskSelector.Select(outByIn, rows, columns, Pattern, Schedule.Sparsity(step), name: target.WeightName);

        // Back to the stored layout (booleans through the float layout helper).
        var keepFloat = new float[keepOutByIn.Length];
        for (var i = 0; i < keepFloat.Length; i++) keepFloat[i] = keepOutByIn[i] ? 1f : 0f;
        var keepStored = new float[keepFloat.Length];
        WeightLayout.FromOutByIn(target, keepFloat, keepStored);
        var keep = new bool[keepStored.Length];
        for (var i = 0; i < keep.Length; i++) keep[i] = keepStored[i] != 0 && (parameter.Mask?.IsKept(i) ?? true);
        parameter.Mask = new ParameterMask(keep, parameter.Value.Shape);
        parameter.Mask.ZeroPruned(stored);
    }
}
