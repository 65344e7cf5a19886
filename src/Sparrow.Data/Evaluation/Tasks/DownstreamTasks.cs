namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>The downstream tasks Sparrow knows by name, read from the task data folder (<see cref="TaskData"/>).</summary>
public static class DownstreamTasks
{
    /// <summary>The task names: "fortunes" and "spam".</summary>
    public static IReadOnlyList<string> Names { get; } = [FortunesTopics.Name, SpamAssassin.Name];

    /// <summary>
    /// Items per task unless told otherwise, chosen so that a 1-point accuracy difference between two models stands out
    /// of the noise as far as MiniLM's embedding time allows (about 30 s per model and task on 2 cores): fortunes texts are
    /// short and their 12 topics hard to tell apart, so 6,000 (3,000 test items); mails run to the 128-token limit and
    /// spam is easy, so 2,400 (1,200 test items).
    /// </summary>
    public static int DefaultLimit(string name) => name == FortunesTopics.Name ? 6000 : TextClassificationTask.DefaultLimit;

    /// <summary>The data set of task <paramref name="name"/> under <paramref name="dataDirectory"/>.</summary>
    public static LabelledDataset Load(string name, string dataDirectory) => name switch
    {
        FortunesTopics.Name => FortunesTopics.Load(Path.Combine(dataDirectory, TaskData.FortunesFolder)),
        SpamAssassin.Name => SpamAssassin.Load(Path.Combine(dataDirectory, TaskData.SpamAssassinFolder)),
        _ => throw new ArgumentException($"Unknown task '{name}'; the tasks are: {string.Join(", ", Names)}.", nameof(name)),
    };
}
