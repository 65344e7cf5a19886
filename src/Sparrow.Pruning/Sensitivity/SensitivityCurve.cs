namespace Sparrow.Pruning.Sensitivity;

/// <summary>
/// One target weight's sensitivity: the quality loss measured with this weight alone pruned to each sparsity
/// (every other weight dense). <see cref="LossAt"/> interpolates between the measured points, with no loss at 0.
/// </summary>
/// <param name="Label">A short name for tables (the node's name when it has one, else the weight's).</param>
public sealed record SensitivityCurve(string WeightName, string Label, string OpType, int[] Shape, long Parameters,
    IReadOnlyList<double> Sparsities, IReadOnlyList<double> Losses)
{
    /// <summary>The loss predicted at <paramref name="sparsity"/>: linear between measured points (0 at sparsity 0), the last slope beyond them.</summary>
    public double LossAt(double sparsity)
    {
        var (xs, ys) = Points();
        if (sparsity <= xs[0]) return ys[0];
        for (var i = 1; i < xs.Length; i++)
            if (sparsity <= xs[i]) return Lerp(xs[i - 1], ys[i - 1], xs[i], ys[i], sparsity);
        if (xs.Length < 2) return ys[^1];
        return Math.Max(ys[^1], Lerp(xs[^2], ys[^2], xs[^1], ys[^1], sparsity));
    }

    /// <summary>
    /// The measured points sorted by sparsity, starting at (0, 0) unless 0 was measured, with losses made
    /// non-decreasing (a dip at a higher sparsity is noise: pruning more never truly helps) and never negative.
    /// </summary>
    public (double[] Sparsities, double[] Losses) Points()
    {
        var points = Sparsities.Zip(Losses).OrderBy(p => p.First).ToList();
        if (points.Count == 0 || points[0].First > 0) points.Insert(0, (0, 0));
        var xs = points.Select(p => p.First).ToArray();
        var ys = new double[xs.Length];
        var highest = 0.0;
        for (var i = 0; i < ys.Length; i++) ys[i] = highest = Math.Max(highest, double.IsNaN(points[i].Second) ? highest : points[i].Second);
        return (xs, ys);
    }

    private static double Lerp(double x0, double y0, double x1, double y1, double x) =>
        x1 == x0 ? Math.Max(y0, y1) : y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

/// <summary>What <see cref="SensitivityAnalyzer.Analyze"/> measured: one curve per target, in the targets' order.</summary>
public sealed record SensitivityResult(IReadOnlyList<double> Sparsities, IReadOnlyList<SensitivityCurve> Curves)
{
    /// <summary>All the targets' parameters together.</summary>
    public long Parameters => Curves.Sum(c => c.Parameters);
}
