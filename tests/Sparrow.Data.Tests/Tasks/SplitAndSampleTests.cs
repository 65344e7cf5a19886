using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Data.Tests.Tasks;

public sealed class SplitAndSampleTests
{
    private static LabelledDataset Synthetic(params int[] counts) => new("synthetic", counts.Select((_, c) => "class" + c).ToArray(),
        counts.SelectMany((n, c) => Enumerable.Range(0, n).Select(i => new LabelledText($"c{c} item {i}", c))));

    [Fact]
    public void Duplicate_texts_are_kept_once_and_conflicting_ones_dropped()
    {
        var data = new LabelledDataset("d", ["a", "b"], [new("x", 0), new("x", 0), new("y", 0), new("y", 1), new("z", 1), new(" ", 1)]);
        Assert.Equal([new LabelledText("x", 0), new LabelledText("z", 1)], data.Items);
    }

    [Fact]
    public void Samples_cap_each_class_alike_and_repeat_for_a_seed()
    {
        var data = Synthetic(500, 40, 300);
        var sample = data.Sample(300, seed: 3);
        Assert.Equal([100, 40, 100], sample.ClassCounts());
        Assert.Equal(sample.Items, data.Sample(300, seed: 3).Items);
        Assert.NotEqual(sample.Items, data.Sample(300, seed: 4).Items);
        Assert.All(sample.Items, i => Assert.Contains(i, data.Items));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Sample(2, seed: 0));
    }

    [Fact]
    public void Splits_keep_each_class_share_cover_every_item_once_and_repeat_for_a_seed()
    {
        var data = Synthetic(101, 40, 7, 2);
        var split = StratifiedSplit.Split(data, 0.25, seed: 11);
        int Count(IReadOnlyList<LabelledText> items, int label) => items.Count(i => i.Label == label);
        Assert.Equal([25, 10, 2, 1], Enumerable.Range(0, 4).Select(c => Count(split.Test, c)));
        Assert.Equal([76, 30, 5, 1], Enumerable.Range(0, 4).Select(c => Count(split.Train, c)));
        Assert.Equal(data.Items.OrderBy(i => i.Text), split.Train.Concat(split.Test).OrderBy(i => i.Text));
        var again = StratifiedSplit.Split(data, 0.25, seed: 11);
        Assert.Equal(split.Test, again.Test);
        Assert.Equal(split.Train, again.Train);
        Assert.NotEqual(split.Test, StratifiedSplit.Split(data, 0.25, seed: 12).Test);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_test_fraction_outside_zero_to_one_is_refused(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedSplit.Split(Synthetic(4, 4), fraction, seed: 0));
}
