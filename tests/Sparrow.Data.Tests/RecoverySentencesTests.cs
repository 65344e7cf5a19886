using Sparrow.Data.Evaluation;
using Sparrow.Data.Evaluation.Samples;
using Sparrow.Data.Training;

namespace Sparrow.Data.Tests;

public sealed class RecoverySentencesTests
{
    [Fact]
    public void The_recovery_texts_are_2048_distinct_texts_none_of_them_an_evaluation_item()
    {
        var texts = RecoverySentences.Sample;
        Assert.Equal(2048, texts.Count);
        Assert.Equal(texts.Count, texts.Distinct(StringComparer.Ordinal).Count());
        // Recovery must never train on what eval judges: its held-out sentences and the task items (here the shipped samples).
        var evaluation = new HashSet<string>(HeldOutSentences.Sample, StringComparer.Ordinal);
        foreach (var task in TaskSamples.Names)
            evaluation.UnionWith(TaskSamples.Load(task).Items.Select(i => i.Text));
        Assert.DoesNotContain(texts, evaluation.Contains);
    }
}
