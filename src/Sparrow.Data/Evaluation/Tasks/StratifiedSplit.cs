namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>A training and a test part of one data set.</summary>
public sealed record DatasetSplit(IReadOnlyList<LabelledText> Train, IReadOnlyList<LabelledText> Test);

/// <summary>Train/test splits that keep each class's share in both parts, the same for the same seed.</summary>
internal static class StratifiedSplit
{
    /// <summary>
    /// Splits each class separately: a seeded shuffle, then round(count × testFraction) of it to the test part,
    /// at least one item of each class to each part where the class has two or more items.
    /// </summary>
    public static DatasetSplit Split(LabelledDataset dataset, double testFraction, int seed)
    {
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must lie strictly between 0 and 1.");
        var random = new Random(seed);
        var train = new List<LabelledText>();
        var test = new List<LabelledText>();
        foreach (var group in dataset.ByClass())
        {
            var items = group.ToArray();
            random.Shuffle(items);
            var testCount = (int)Math.Round(items.Length * testFraction, MidpointRounding.AwayFromZero);
            if (items.Length >= 2) testCount = Math.Clamp(testCount, 1, items.Length - 1);
            test.AddRange(items.Take(testCount));
            train.AddRange(items.Skip(testCount));
        }
        return new DatasetSplit(train, test);
    }
}
