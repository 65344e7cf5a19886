using Sparrow.Data.Models;
using Spectre.Console.Testing;

namespace Sparrow.Cli.Tests;

/// <summary>Runs the <c>sparrow</c> command in process and captures what it printed.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override string ToString() => $"exit {ExitCode}\n--- output ---\n{Output}\n--- error ---\n{Error}";
    }

    public static Result Run(params string[] args)
    {
        using var output = new TestConsole().Width(250);
        using var error = new TestConsole().Width(250);
        var code = SparrowApp.Run(args, output, error);
        return new Result(code, output.Output, error.Output);
    }

    private static readonly Lazy<string> MiniLmFile = new(() =>
    {
        var path = RunFiles.Model("minilm");
        File.WriteAllBytes(path, DefaultModel.OnnxBytes.ToArray());
        return path;
    });

    /// <summary>The embedded model written to a file, for tests that need a path.</summary>
    public static string MiniLmPath => MiniLmFile.Value;

    public static string SamplePath(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);
}

/// <summary>Files the whole test run shares (models written once), deleted when the process exits: 87 MB each per run otherwise piled up in the temporary folder.</summary>
internal static class RunFiles
{
    public static string Model(string name)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sparrow-tests-{name}-{Environment.ProcessId}.onnx");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        };
        return path;
    }
}

/// <summary>A folder that is deleted when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sparrow-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

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

/// <summary>Marks tests that run models through Sparrow's operators (they fail until the operators exist).</summary>
internal static class Needs
{
    public const string Category = "Needs";
    public const string Operators = "Operators";
}

/// <summary>
/// Tests that measure child processes' CPU time (getrusage of reaped children counts every child this test process
/// reaps) and tests that start child processes: run one at a time, after the parallel tests, so that no other test's
/// children distort a measurement.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChildProcesses
{
    public const string Name = "Child processes";
}
