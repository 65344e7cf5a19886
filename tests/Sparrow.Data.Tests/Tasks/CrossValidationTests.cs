using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Data.Tests.Tasks;

public sealed class CrossValidationTests
{
    private static LabelledDataset Synthetic(params int[] counts) => new("synthetic", counts.Select((_, c) => "class" + c).ToArray(),
        counts.SelectMany((n, c) => Enumerable.Range(0, n).Select(i => new LabelledText($"c{c} item {i}", c))));

    [Fact]
    public void Folds_partition_the_items_spread_each_class_evenly_and_repeat_for_a_seed()
    {
        var data = Synthetic(101, 40, 7, 5, 12);
        var folds = StratifiedFolds.Assign(data, 5, seed: 3);
        Assert.Equal(data.Items.Count, folds.Length);
        Assert.All(folds, f => Assert.InRange(f, 0, 4));
        // Every class: its items split over the folds as evenly as possible (sizes differ by at most one).
        for (var c = 0; c < 5; c++)
        {
            var perFold = Enumerable.Range(0, 5).Select(f => data.Items.Where((item, i) => item.Label == c && folds[i] == f).Count()).ToArray();
            Assert.True(perFold.Max() - perFold.Min() <= 1, $"class {c}: {string.Join(",", perFold)}");
            Assert.Equal(data.ClassCounts()[c], perFold.Sum());
        }
        // The folds themselves differ in size by at most one item.
        var sizes = Enumerable.Range(0, 5).Select(f => folds.Count(x => x == f)).ToArray();
        Assert.True(sizes.Max() - sizes.Min() <= 1, string.Join(",", sizes));
        Assert.Equal(folds, StratifiedFolds.Assign(data, 5, seed: 3));
        Assert.NotEqual(folds, StratifiedFolds.Assign(data, 5, seed: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedFolds.Assign(data, 1, seed: 0));
    }

    [Fact]
    public void A_cross_validated_task_tests_every_item_once_with_a_classifier_that_never_saw_it()
    {
        var data = Synthetic(30, 20, 10);
        var task = TextClassificationTask.PrepareCrossValidated(data, 4, seed: 1);
        Assert.Equal(4, task.Folds);
        Assert.Equal(data.Items, task.TestItems);
        Assert.Equal(60, task.ItemCount);
        // Split = the first fold's: together it covers every item once.
        Assert.Equal(data.Items.OrderBy(i => i.Text), task.Split.Train.Concat(task.Split.Test).OrderBy(i => i.Text));
        Assert.All(task.Split.Test, i => Assert.Equal(0, task.FoldOf[IndexOf(data, i)]));

        // Features that carry the class: every item right, each scored once.
        var result = task.Evaluate(texts => texts.Select(t => new[] { t.StartsWith("c0", StringComparison.Ordinal) ? 1f : 0f, t.StartsWith("c1", StringComparison.Ordinal) ? 1f : 0f }).ToArray());
        Assert.Equal(60, result.TestItems);
        Assert.Equal(45, result.TrainItems);
        Assert.Equal(60, result.Correct.Count);
        Assert.Equal(1.0, result.Accuracy);
        Assert.Contains(result.L2, TextClassificationTask.L2Grid);
    }

    [Fact]
    public void Cross_validated_results_are_the_same_every_time_and_pair_item_by_item()
    {
        var data = Synthetic(40, 40, 40);
        var task = TextClassificationTask.PrepareCrossValidated(data, 5, seed: 2);
        // Noisy features: some items wrong, so that the per-item results carry information.
        float[][] Noisy(IReadOnlyList<string> texts) => texts.Select(t =>
        {
            var random = new Random(StableHash(t));
            var label = t[1] - '0';
            return Enumerable.Range(0, 3).Select(c => (c == label ? 0.7f : 0f) + (float)random.NextDouble()).ToArray();
        }).ToArray();
        var first = task.Evaluate(Noisy);
        var second = task.Evaluate(Noisy);
        Assert.Equal(first.Correct, second.Correct);
        Assert.Equal(first.LogLoss, second.LogLoss);
        // Better than guessing among three classes (ln 3), worse than certain.
        Assert.InRange(first.LogLoss, 0.01, Math.Log(3));
        Assert.InRange(first.Accuracy, 0.4, 0.999);
        Assert.Equal((0.0, 0.0), first.Against(second));
    }

    [Fact]
    public void Too_few_folds_or_a_class_smaller_than_the_folds_is_refused()
    {
        var one = Assert.Throws<ArgumentException>(() => TextClassificationTask.PrepareCrossValidated(Synthetic(10, 10), 1));
        Assert.Contains("at least 2 folds", one.Message);
        var small = Assert.Throws<ArgumentException>(() => TextClassificationTask.PrepareCrossValidated(Synthetic(10, 3), 5));
        Assert.Contains("Class 'class1'", small.Message);
        Assert.Contains("3 items, fewer than the 5 folds", small.Message);
        Assert.Throws<InvalidOperationException>(() => TextClassificationTask.Prepare(Synthetic(10, 10), 20).FoldOf);
    }

    [Fact]
    public void Samples_per_class_keep_every_item_when_uncapped_and_match_the_limit_form()
    {
        var data = Synthetic(500, 40, 300);
        var all = data.SamplePerClass(null, seed: 5);
        Assert.Equal([500, 40, 300], all.ClassCounts());
        Assert.Equal(data.Items.OrderBy(i => i.Text), all.Items.OrderBy(i => i.Text));
        Assert.Equal(data.Sample(300, seed: 3).Items, data.SamplePerClass(100, seed: 3).Items);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.SamplePerClass(0, seed: 0));
        // The split form without further sampling is Prepare's second half.
        Assert.Equal(TextClassificationTask.Prepare(data, 300, seed: 7).Split.Test, TextClassificationTask.PrepareSplit(data.Sample(300, 7), seed: 7).Split.Test);
    }

    private static int IndexOf(LabelledDataset data, LabelledText item)
    {
        for (var i = 0; i < data.Items.Count; i++) if (ReferenceEquals(data.Items[i], item)) return i;
        return -1;
    }

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var ch in text) hash = unchecked(hash * 31 + ch);
        return hash & 0x7fffffff;
    }
}
