using System.Text;
using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Data.Evaluation.Samples;

/// <summary>
/// Small, class-balanced, seeded samples of the downstream tasks, shipped inside Sparrow.Data so that
/// <c>sparrow demo</c> and the tests score real task data with no download. Each is made from the full data set
/// that scripts/install-datasets.sh installs (<see cref="Make"/>, run by scripts/make-demo-samples.sh) and kept as
/// a tab-separated file: a <c>#classes</c> line, then one "class TAB text" line per item. Sources and licences are
/// in NOTICE.md beside the files.
/// </summary>
public static class TaskSamples
{
    /// <summary>The seed of the sampling: the same data set gives the same sample.</summary>
    public const int Seed = 0;

    /// <summary>
    /// Mails are cut to this many characters: the demo reads 128 tokens of each (about 500-600 characters of
    /// English), and the rest would only make the repository larger.
    /// </summary>
    public const int SpamMaxCharacters = 600;

    private const string ClassesPrefix = "#classes\t";

    /// <summary>The tasks with a shipped sample: fortunes and spam.</summary>
    public static IReadOnlyList<string> Names => DownstreamTasks.Names;

    /// <summary>
    /// Items per sample: fortunes 960 (80 for each of its 12 topics: half to train, half to test, so an accuracy
    /// near 60% has a standard error of about 2.2 points), spam 400 (200 ham, 200 spam).
    /// </summary>
    public static int Size(string name) => name switch
    {
        FortunesTopics.Name => 960,
        SpamAssassin.Name => 400,
        _ => throw UnknownTask(name),
    };

    /// <summary>The file name of a task's sample, as stored in the repository and as the resource's last part.</summary>
    public static string FileName(string name) => Names.Contains(name) ? name + "-sample.tsv" : throw UnknownTask(name);

    /// <summary>The shipped sample of task <paramref name="name"/>.</summary>
    public static LabelledDataset Load(string name)
    {
        var resource = "Sparrow.Data.Evaluation.Samples." + FileName(name);
        using var stream = typeof(TaskSamples).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The resource {resource} is missing from Sparrow.Data.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(name, reader.ReadToEnd());
    }

    /// <summary>The text that <see cref="Load"/> reads back: what the shipped file holds, byte for byte.</summary>
    public static string ShippedText(string name)
    {
        var resource = "Sparrow.Data.Evaluation.Samples." + FileName(name);
        using var stream = typeof(TaskSamples).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The resource {resource} is missing from Sparrow.Data.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// The sample of task <paramref name="name"/> made from the full data set under <paramref name="dataDirectory"/>
    /// (the folder <see cref="TaskData"/> describes): <see cref="Size"/> items, the same number per class, seeded.
    /// </summary>
    public static LabelledDataset Make(string name, string dataDirectory)
    {
        var full = name switch
        {
            FortunesTopics.Name => FortunesTopics.Load(Path.Combine(dataDirectory, TaskData.FortunesFolder)),
            SpamAssassin.Name => SpamAssassin.Load(Path.Combine(dataDirectory, TaskData.SpamAssassinFolder), SpamMaxCharacters),
            _ => throw UnknownTask(name),
        };
        var perClass = Size(name) / full.ClassNames.Count;
        var counts = full.ClassCounts();
        if (counts.Min() < perClass)
        {
            var small = Array.IndexOf(counts, counts.Min());
            throw new InvalidDataException($"Task {name} in {dataDirectory}: class '{full.ClassNames[small]}' holds {counts[small]} items, fewer than the {perClass} a balanced sample needs.");
        }
        return full.Sample(Size(name), Seed);
    }

    /// <summary>A sample as its file holds it (UTF-8, '\n' line ends).</summary>
    public static string ToText(LabelledDataset sample)
    {
        var text = new StringBuilder();
        text.Append(ClassesPrefix).AppendJoin('\t', sample.ClassNames).Append('\n');
        foreach (var item in sample.Items)
        {
            // Both loaders make white space single spaces, so a tab or line break inside a text cannot happen.
            if (item.Text.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0) throw new InvalidDataException($"A text of {sample.Name} holds a tab or line break: {item.Text}");
            text.Append(sample.ClassNames[item.Label]).Append('\t').Append(item.Text).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Reads a sample file's text (see <see cref="ToText"/>).</summary>
    public static LabelledDataset Parse(string name, string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || !lines[0].StartsWith(ClassesPrefix, StringComparison.Ordinal))
            throw new InvalidDataException($"The {name} sample does not start with a '{ClassesPrefix.TrimEnd()}' line.");
        var classes = lines[0][ClassesPrefix.Length..].Split('\t');
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var items = new List<LabelledText>(lines.Length - 1);
        for (var i = 1; i < lines.Length; i++)
        {
            var tab = lines[i].IndexOf('\t');
            if (tab <= 0 || !index.TryGetValue(lines[i][..tab], out var label))
                throw new InvalidDataException($"Line {i + 1} of the {name} sample is not 'class TAB text' with one of its classes ({string.Join(", ", classes)}).");
            items.Add(new LabelledText(lines[i][(tab + 1)..], label));
        }
        return new LabelledDataset(name, classes, items);
    }

    private static ArgumentException UnknownTask(string name) =>
        new($"No shipped sample for task '{name}'; the tasks are: {string.Join(", ", Names)}.", nameof(name));
}
