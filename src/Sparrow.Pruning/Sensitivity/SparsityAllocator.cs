namespace Sparrow.Pruning.Sensitivity;

/// <summary>A per-layer sparsity plan and what the sensitivity curves predict for it.</summary>
/// <param name="Sparsities">Weight name → sparsity, in the curves' order; each is a whole number of weights (zeros / parameters).</param>
/// <param name="PredictedLoss">Σ of each layer's interpolated loss at its sparsity (layers assumed to add up).</param>
/// <param name="UniformPredictedLoss">The same sum with every layer at the target.</param>
public sealed record SparsityAllocation(IReadOnlyList<KeyValuePair<string, double>> Sparsities, double TargetSparsity, double AchievedSparsity,
    long Parameters, long Zeros, double PredictedLoss, double UniformPredictedLoss);

/// <summary>
/// Chooses per-layer sparsities whose parameter-weighted mean is a target overall sparsity, minimising the summed
/// predicted loss. Each curve is replaced by its lower convex hull (the Lagrangian relaxation: at the optimum every
/// layer sits where its marginal loss per pruned weight is the same); the hull segments of all layers are then
/// filled cheapest first (loss per pruned weight), which is optimal for convex curves, the last one partly.
/// </summary>
public static class SparsityAllocator
{
    /// <summary>The highest sparsity any layer is given unless the caller says otherwise.</summary>
    public const double DefaultMaxSparsity = 0.95;

    /// <summary>Per-layer sparsities, each in [<paramref name="minSparsity"/>, <paramref name="maxSparsity"/>], whose parameter-weighted mean is <paramref name="targetSparsity"/>, with the least summed predicted loss read from <paramref name="curves"/>.</summary>
    /// <exception cref="PruningRequestException">No curves, or a sparsity or bound outside [0, 1).</exception>
    public static SparsityAllocation Allocate(IReadOnlyList<SensitivityCurve> curves, double targetSparsity,
        double minSparsity = 0, double maxSparsity = DefaultMaxSparsity)
    {
        ArgumentNullException.ThrowIfNull(curves);
        if (curves.Count == 0) throw new PruningRequestException("No sensitivity curves to allocate sparsity over.");
        if (!(minSparsity >= 0 && minSparsity <= maxSparsity && maxSparsity < 1))
            throw new PruningRequestException($"The per-layer sparsity bounds must satisfy 0 ≤ min ≤ max < 1; got min {minSparsity}, max {maxSparsity}.");
        if (!(targetSparsity >= 0 && targetSparsity < 1))
            throw new PruningRequestException($"The overall sparsity must be at least 0 and below 1 (a model pruned to 100% computes nothing; prune single layers to 1 with a per-layer override instead); got {targetSparsity}.");
        var parameters = curves.Sum(c => c.Parameters);
        if (parameters == 0) throw new PruningRequestException("The curves' weights hold no parameters.");
        // Whole weights: the bounds as counts, and the target as a count of zeros over all layers.
        var lowest = curves.Select(c => (long)Math.Ceiling(minSparsity * c.Parameters - 1e-9)).ToArray();
        var highest = curves.Select(c => (long)Math.Floor(maxSparsity * c.Parameters + 1e-9)).ToArray();
        var wanted = (long)Math.Round(targetSparsity * parameters);
        if (wanted < lowest.Sum() || wanted > highest.Sum())
            throw new PruningRequestException(
                $"An overall sparsity of {targetSparsity:0.###} cannot be reached with every layer between {minSparsity:0.###} and {maxSparsity:0.###}: "
                + $"those bounds allow {(double)lowest.Sum() / parameters:0.####} to {(double)highest.Sum() / parameters:0.####}.");

        // Hull segments of every layer, as (layer, zeros it adds, loss per zero).
        var segments = new List<(int Layer, double Start, double Width, double Rate)>();
        for (var i = 0; i < curves.Count; i++)
        {
            var hull = LowerHull(curves[i], (double)lowest[i] / Math.Max(1, curves[i].Parameters), (double)highest[i] / Math.Max(1, curves[i].Parameters));
            for (var k = 1; k < hull.Count; k++)
            {
                var width = (hull[k].X - hull[k - 1].X) * curves[i].Parameters;
                if (width <= 0) continue;
                segments.Add((i, hull[k - 1].X, width, (hull[k].Y - hull[k - 1].Y) / width));
            }
        }
        var zeros = lowest.Select(v => (double)v).ToArray();
        var remaining = wanted - (double)lowest.Sum();
        foreach (var segment in segments.OrderBy(s => s.Rate).ThenBy(s => s.Layer).ThenBy(s => s.Start))
        {
            if (remaining <= 0) break;
            var take = Math.Min(segment.Width, remaining);
            zeros[segment.Layer] += take;
            remaining -= take;
        }

        var counts = Discretize(zeros, lowest, highest, wanted);
        var sparsities = new List<KeyValuePair<string, double>>();
        double predicted = 0, uniform = 0;
        for (var i = 0; i < curves.Count; i++)
        {
            var s = curves[i].Parameters == 0 ? 0 : (double)counts[i] / curves[i].Parameters;
            sparsities.Add(new(curves[i].WeightName, s));
            predicted += curves[i].LossAt(s);
            uniform += curves[i].LossAt(targetSparsity);
        }
        var total = counts.Sum();
        return new SparsityAllocation(sparsities, targetSparsity, (double)total / parameters, parameters, total, predicted, uniform);
    }

    /// <summary>Rounds each layer's zeros to a whole number while keeping the total exactly <paramref name="wanted"/> and inside the bounds.</summary>
    internal static long[] Discretize(double[] zeros, long[] lowest, long[] highest, long wanted)
    {
        var counts = zeros.Select((z, i) => Math.Clamp((long)Math.Round(z), lowest[i], highest[i])).ToArray();
        var difference = wanted - counts.Sum();
        // Move one weight at a time in the layers whose rounding went furthest the other way.
        var order = Enumerable.Range(0, zeros.Length).OrderByDescending(i => Math.Sign(difference) * (zeros[i] - counts[i])).ToArray();
        while (difference != 0)
        {
            var moved = false;
            foreach (var i in order)
            {
                if (difference == 0) break;
                var step = Math.Sign(difference);
                if (counts[i] + step < lowest[i] || counts[i] + step > highest[i]) continue;
                counts[i] += step;
                difference -= step;
                moved = true;
            }
            if (!moved) throw new InvalidOperationException("The bounds leave no room to round the allocation to the target.");
        }
        return counts;
    }

    /// <summary>The lower convex hull of the curve's points (interpolated at the bounds), from <paramref name="from"/> to <paramref name="to"/>.</summary>
    private static List<(double X, double Y)> LowerHull(SensitivityCurve curve, double from, double to)
    {
        var (xs, _) = curve.Points();
        var points = new List<(double X, double Y)> { (from, curve.LossAt(from)) };
        points.AddRange(xs.Where(x => x > from && x < to).Select(x => (x, curve.LossAt(x))));
        if (to > from) points.Add((to, curve.LossAt(to)));
        var hull = new List<(double X, double Y)>();
        foreach (var p in points)
        {
            // Drop the last point while it lies on or above the line from the one before it to p.
            while (hull.Count >= 2 && Cross(hull[^2], hull[^1], p) <= 0) hull.RemoveAt(hull.Count - 1);
            hull.Add(p);
        }
        return hull;
    }

    private static double Cross((double X, double Y) o, (double X, double Y) a, (double X, double Y) b) =>
        (a.X - o.X) * (b.Y - o.Y) - (a.Y - o.Y) * (b.X - o.X);
}
