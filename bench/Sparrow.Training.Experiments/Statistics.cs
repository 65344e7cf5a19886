namespace Sparrow.Training.Experiments;

/// <summary>Summary statistics the experiments report.</summary>
internal static class Statistics
{
    /// <summary>The median; the mean of the two middle values for an even count; NaN for no values (nothing was timed).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}
