using Sparrow.Data.Evaluation.Samples;
using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Cli.Tests;

/// <summary>The task samples shipped in Sparrow.Data for the demo, and the script that makes them.</summary>
[Collection(ChildProcesses.Name)]
public class DemoSampleTests
{
    [Theory]
    [InlineData("fortunes", 12, 80)]
    [InlineData("spam", 2, 200)]
    public void Shipped_sample_loads_and_is_class_balanced(string name, int classes, int perClass)
    {
        var sample = TaskSamples.Load(name);
        Assert.Equal(name, sample.Name);
        Assert.Equal(classes, sample.ClassNames.Count);
        Assert.All(sample.ClassCounts(), count => Assert.Equal(perClass, count));
        Assert.Equal(TaskSamples.Size(name), sample.Items.Count);
        Assert.All(sample.Items, item => Assert.False(string.IsNullOrWhiteSpace(item.Text)));
        // Nothing was lost reading it: written back, it is the shipped text byte for byte.
        Assert.Equal(TaskSamples.ShippedText(name), TaskSamples.ToText(sample));
    }

    [Fact]
    public void Shipped_spam_sample_holds_mail_text_not_headers()
    {
        var sample = TaskSamples.Load("spam");
        Assert.Equal(["ham", "spam"], sample.ClassNames);
        Assert.All(sample.Items, item => Assert.InRange(item.Text.Length, 1, TaskSamples.SpamMaxCharacters));
        Assert.DoesNotContain(sample.Items, item => item.Text.StartsWith("Received:", StringComparison.Ordinal) || item.Text.StartsWith("Return-Path:", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_names_a_bad_line()
    {
        var e = Assert.Throws<InvalidDataException>(() => TaskSamples.Parse("spam", "#classes\tham\tspam\nham\tfine\neggs\tno such class\n"));
        Assert.Contains("Line 3", e.Message);
        Assert.Throws<InvalidDataException>(() => TaskSamples.Parse("spam", "ham\tno header\n"));
    }

    [DatasetsInstalledFact]
    public void Script_output_matches_the_committed_samples()
    {
        // What scripts/make-demo-samples.sh runs, into a temporary folder instead of the source tree.
        using var folder = new TempDirectory();
        var r = CliRunner.Run("demo", "make-samples", "--data", TaskData.DefaultDirectory, "--out", folder.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var name in TaskSamples.Names)
        {
            var made = File.ReadAllText(folder.File(TaskSamples.FileName(name)));
            Assert.True(made == TaskSamples.ShippedText(name), $"The {name} sample made from {TaskData.DefaultDirectory} differs from the shipped one; run scripts/make-demo-samples.sh and commit the result.");
        }
    }

    [Fact]
    public void Make_samples_without_the_data_sets_says_how_to_get_them()
    {
        using var folder = new TempDirectory();
        var r = CliRunner.Run("demo", "make-samples", "--data", folder.File("nothing-here"), "--out", folder.File("out"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("install-datasets", r.Error);
    }
}

/// <summary>A fact that needs the full task data sets (scripts/install-datasets.sh); skipped with the reason when they are missing.</summary>
internal sealed class DatasetsInstalledFactAttribute : FactAttribute
{
    public DatasetsInstalledFactAttribute()
    {
        var folder = TaskData.DefaultDirectory;
        if (!Directory.Exists(Path.Combine(folder, TaskData.FortunesFolder)) || !Directory.Exists(Path.Combine(folder, TaskData.SpamAssassinFolder)))
            Skip = $"The task data sets are not installed in {folder}; run scripts/install-datasets.sh to check the shipped samples against them.";
    }
}
