namespace Sparrow.Data.Tests.Tasks;

/// <summary>The committed sample of the task data (tests/Sparrow.Data.Tests/TestData/datasets).</summary>
internal static class TaskSample
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "TestData", "datasets");

    public static string Fortunes => Path.Combine(Folder, "fortunes");

    public static string SpamAssassin => Path.Combine(Folder, "spam-assassin");
}

/// <summary>A folder that is deleted when the test ends.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sparrow-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string relativePath, string text)
    {
        var path = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
