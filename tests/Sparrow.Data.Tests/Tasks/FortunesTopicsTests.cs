using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Data.Tests.Tasks;

public sealed class FortunesTopicsTests
{
    [Fact]
    public void Records_split_at_percent_lines_trimmed_and_without_empty_ones()
    {
        var text = "%\r\nFirst  line\r\n\tsecond line\r\n%\r\n%\r\n   \r\n%\nLast one\n % \nafter a spaced separator\n";
        var records = FortunesTopics.ParseRecords(text);
        Assert.Equal(["First line second line", "Last one", "after a spaced separator"], records);
    }

    [Fact]
    public void A_percent_inside_a_line_is_text()
    {
        Assert.Equal(["50% off, 100% true"], FortunesTopics.ParseRecords("50% off, 100% true\n%\n"));
        Assert.Empty(FortunesTopics.ParseRecords(""));
        Assert.Empty(FortunesTopics.ParseRecords("%\n%\n\n%"));
    }

    [Fact]
    public void The_sample_gives_one_class_per_category_file_and_skips_indexes_links_and_subfolders()
    {
        var data = FortunesTopics.Load(TaskSample.Fortunes);
        Assert.Equal("fortunes", data.Name);
        Assert.Equal(["computers", "food", "politics"], data.ClassNames);
        Assert.Equal([14, 10, 12], data.ClassCounts());
        Assert.All(data.Items, i => Assert.Equal(i.Text.Trim(), i.Text));
        Assert.DoesNotContain(data.Items, i => i.Text.Contains("sub-folder"));
        Assert.Contains(data.Items, i => i.Label == 1 && i.Text == "Wake up and smell the coffee. -- Ann Landers");
    }

    [Fact]
    public void Only_the_largest_categories_are_kept()
    {
        var data = FortunesTopics.Load(TaskSample.Fortunes, categories: 2);
        Assert.Equal(["computers", "politics"], data.ClassNames);
        Assert.Equal([14, 12], data.ClassCounts());
    }

    [Fact]
    public void A_missing_folder_names_the_path_and_the_install_script()
    {
        var missing = Path.Combine(Path.GetTempPath(), "sparrow-no-such-folder-" + Guid.NewGuid().ToString("N"), "fortunes");
        var error = Assert.Throws<DatasetNotFoundException>(() => FortunesTopics.Load(missing));
        Assert.Contains(missing, error.Message);
        Assert.Contains("scripts/install-datasets.sh", error.Message);
    }

    [Fact]
    public void A_folder_with_one_category_is_not_a_task()
    {
        using var folder = new ScratchFolder();
        folder.Write("only", "one\n%\ntwo\n%\n");
        folder.Write("empty", "%\n%\n");
        var error = Assert.Throws<DatasetNotFoundException>(() => FortunesTopics.Load(folder.Path));
        Assert.Contains(folder.Path, error.Message);
        Assert.Contains("at least two", error.Message);
    }
}
