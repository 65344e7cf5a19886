using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Data.Tests.Tasks;

public sealed class TextClassificationTaskTests
{
    private static readonly string[] Topics = ["apple", "river", "engine"];

    /// <summary>Texts whose class is named by one word among filler words, and an embedder that sees those words.</summary>
    private static LabelledDataset Keywords(int perClass, int seed)
    {
        var random = new Random(seed);
        var items = new List<LabelledText>();
        for (var c = 0; c < Topics.Length; c++)
            for (var i = 0; i < perClass; i++) items.Add(new LabelledText($"item {i} {random.Next(1000)} mentions {Topics[c]}", c));
        return new LabelledDataset("keywords", Topics, items);
    }

    private static float[][] KeywordEmbedder(IReadOnlyList<string> texts) =>
        texts.Select(t => Topics.Select(topic => t.Contains(topic, StringComparison.Ordinal) ? 1f : 0f).Append(t.Length / 100f).ToArray()).ToArray();

    [Fact]
    public void Embeddings_that_carry_the_class_score_perfectly_on_the_test_split()
    {
        var task = TextClassificationTask.Prepare(Keywords(40, seed: 1), limit: 90, testFraction: 0.5, seed: 2);
        Assert.Equal([30, 30, 30], task.Dataset.ClassCounts());
        var result = task.Evaluate(KeywordEmbedder);
        Assert.Equal(1.0, result.Accuracy);
        Assert.Equal(45, result.TestItems);
        Assert.Equal(45, result.TrainItems);
        Assert.Equal(3, result.Classes);
        Assert.Contains(result.L2, TextClassificationTask.L2Grid);
        Assert.Equal(0.0, result.StandardError);
    }

    [Fact]
    public void One_training_item_per_class_uses_the_fallback_strength()
    {
        // Two items per class: one to train on, one to test; nothing is left to choose the strength on.
        var task = TextClassificationTask.Prepare(Keywords(2, seed: 9), limit: 6, testFraction: 0.5, seed: 10);
        var result = task.Evaluate(KeywordEmbedder);
        Assert.Equal(3, result.TrainItems);
        Assert.Equal(TextClassificationTask.FallbackL2, result.L2);
        Assert.Equal(1.0, result.Accuracy);
    }

    [Fact]
    public void Embeddings_that_carry_nothing_score_near_chance()
    {
        var task = TextClassificationTask.Prepare(Keywords(200, seed: 3), limit: 600, testFraction: 0.5, seed: 4);
        var random = new Random(5);
        var result = task.Evaluate(texts => texts.Select(_ => Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray()).ToArray());
        Assert.InRange(result.Accuracy, 0.2, 0.47);
        Assert.True(result.StandardError > 0);
    }

    [Fact]
    public void The_same_embeddings_give_the_same_result()
    {
        var task = TextClassificationTask.Prepare(Keywords(50, seed: 6), seed: 7);
        float[][] Noisy(IReadOnlyList<string> texts)
        {
            var random = new Random(8);
            return KeywordEmbedder(texts).Select(e => e.Select(v => v + (float)random.NextDouble() * 2).ToArray()).ToArray();
        }
        var first = task.Evaluate(Noisy);
        var second = task.Evaluate(Noisy);
        Assert.Equal(first.Accuracy, second.Accuracy);
        Assert.Equal(first.L2, second.L2);
    }

    [Fact]
    public void Paired_differences_count_the_items_only_one_result_got_right()
    {
        TaskResult Result(params bool[] correct) =>
            new("t", 2, 10, correct.Length, correct.Count(c => c) / (double)correct.Length, 0, 0.01, 0, 0) { Correct = correct };
        var baseline = Result(true, true, true, false, false, true, true, true);
        var better = Result(true, true, true, true, true, false, true, true);
        var (difference, standardError) = better.Against(baseline);
        // 2 items only the new one got right, 1 only the baseline: +1/8, SE = √(3 − 1/8)/8.
        Assert.Equal(1.0 / 8, difference, 12);
        Assert.Equal(Math.Sqrt(3 - 1.0 / 8) / 8, standardError, 12);
        Assert.Equal((0.0, 0.0), baseline.Against(baseline));
        Assert.Throws<ArgumentException>(() => better.Against(Result(true, false)));
    }

    [Fact]
    public void The_sample_data_sets_load_by_name()
    {
        Assert.Equal(3, DownstreamTasks.Load("fortunes", TaskSample.Folder).ClassNames.Count);
        Assert.Equal(2, DownstreamTasks.Load("spam", TaskSample.Folder).ClassNames.Count);
        Assert.Throws<ArgumentException>(() => DownstreamTasks.Load("poetry", TaskSample.Folder));
    }
}
