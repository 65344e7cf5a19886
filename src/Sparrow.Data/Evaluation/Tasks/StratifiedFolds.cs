namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>Stratified K-fold assignment: every item in exactly one fold, each class spread evenly over the folds.</summary>
internal static class StratifiedFolds
{
    /// <summary>
    /// The fold (0..<paramref name="folds"/>−1) of each item of <paramref name="dataset"/>, by item index. Each class is
    /// shuffled (seeded) and dealt round-robin; the deal goes on where the previous class stopped, so that the folds also
    /// differ in total size by at most one item. The same seed gives the same folds.
    /// </summary>
    public static int[] Assign(LabelledDataset dataset, int folds, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        var index = new Dictionary<LabelledText, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < dataset.Items.Count; i++) index[dataset.Items[i]] = i;
        var foldOf = new int[dataset.Items.Count];
        var random = new Random(seed);
        var next = 0;
        foreach (var group in dataset.ByClass())
        {
            var items = group.ToArray();
            random.Shuffle(items);
            foreach (var item in items)
            {
                foldOf[index[item]] = next;
                next = (next + 1) % folds;
            }
        }
        return foldOf;
    }
}
