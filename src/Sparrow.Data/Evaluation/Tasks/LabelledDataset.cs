namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>A classification data set: named classes and labelled texts (each text once).</summary>
public sealed class LabelledDataset
{
    /// <summary>A data set called <paramref name="name"/> whose items' labels index <paramref name="classNames"/>.</summary>
    public LabelledDataset(string name, IReadOnlyList<string> classNames, IEnumerable<LabelledText> items)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (classNames.Count < 2) throw new ArgumentException($"Data set '{name}' needs at least two classes, got {classNames.Count}.", nameof(classNames));
        Name = name;
        ClassNames = classNames.ToArray();
        Items = WithoutDuplicates(items, ClassNames.Count);
    }

    /// <summary>The task's name, e.g. "spam".</summary>
    public string Name { get; }

    /// <summary>The class names; an item's label is an index into this list.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The items, in the order they were read.</summary>
    public IReadOnlyList<LabelledText> Items { get; }

    /// <summary>How many items each class holds, by class index.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassNames.Count];
        foreach (var item in Items) counts[item.Label]++;
        return counts;
    }

    /// <summary>
    /// At most <paramref name="limit"/> items, chosen at random (seeded) with the same cap per class
    /// (limit / classes), so that small classes keep all their items and large ones do not swamp them.
    /// </summary>
    public LabelledDataset Sample(int limit, int seed)
    {
        if (limit < ClassNames.Count)
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"Data set '{Name}' has {ClassNames.Count} classes; take at least one item per class.");
        return SamplePerClass(limit / ClassNames.Count, seed);
    }

    /// <summary>
    /// At most <paramref name="perClass"/> items of each class (every item when null), chosen at random (seeded);
    /// <c>SamplePerClass(limit / classes, seed)</c> is <see cref="Sample"/>. Without a cap the classes keep their own
    /// sizes, so the sample is as unbalanced as the data set.
    /// </summary>
    public LabelledDataset SamplePerClass(int? perClass, int seed)
    {
        if (perClass is < 1) throw new ArgumentOutOfRangeException(nameof(perClass), perClass, "Take at least one item per class.");
        var cap = perClass ?? int.MaxValue;
        var random = new Random(seed);
        var chosen = new List<LabelledText>();
        foreach (var group in ByClass())
        {
            var shuffled = group.ToArray();
            random.Shuffle(shuffled);
            chosen.AddRange(shuffled.Take(cap));
        }
        return new LabelledDataset(Name, ClassNames, chosen);
    }

    /// <summary>The items of each class, in order, by class index.</summary>
    internal List<LabelledText>[] ByClass()
    {
        var groups = Enumerable.Range(0, ClassNames.Count).Select(_ => new List<LabelledText>()).ToArray();
        foreach (var item in Items) groups[item.Label].Add(item);
        return groups;
    }

    // A text that appears twice would let a classifier score by memory when one copy lands in the training split
    // and one in the test split; a text under two labels cannot be classified at all. Keep one copy, drop conflicts.
    private static LabelledText[] WithoutDuplicates(IEnumerable<LabelledText> items, int classes)
    {
        var kept = new List<LabelledText>();
        var firstLabel = new Dictionary<string, int>(StringComparer.Ordinal);
        var conflicting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if ((uint)item.Label >= (uint)classes) throw new ArgumentException($"Label {item.Label} is outside the {classes} classes.", nameof(items));
            if (string.IsNullOrWhiteSpace(item.Text)) continue;
            if (firstLabel.TryGetValue(item.Text, out var label))
            {
                if (label != item.Label) conflicting.Add(item.Text);
                continue;
            }
            firstLabel.Add(item.Text, item.Label);
            kept.Add(item);
        }
        return kept.Where(i => !conflicting.Contains(i.Text)).ToArray();
    }
}
