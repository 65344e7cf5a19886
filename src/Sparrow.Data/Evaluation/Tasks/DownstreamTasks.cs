namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>The downstream tasks Sparrow knows by name, read from the task data folder (<see cref="TaskData"/>).</summary>
public static class DownstreamTasks
{
    public static IReadOnlyList<string> Names { get; } = [FortunesTopics.Name, SpamAssassin.Name];

    /// <summary>The data set of task <paramref name="name"/> under <paramref name="dataDirectory"/>.</summary>
    public static LabelledDataset Load(string name, string dataDirectory) => name switch
    {
        FortunesTopics.Name => FortunesTopics.Load(Path.Combine(dataDirectory, TaskData.FortunesFolder)),
        SpamAssassin.Name => SpamAssassin.Load(Path.Combine(dataDirectory, TaskData.SpamAssassinFolder)),
        _ => throw new ArgumentException($"Unknown task '{name}'; the tasks are: {string.Join(", ", Names)}.", nameof(name)),
    };
}
