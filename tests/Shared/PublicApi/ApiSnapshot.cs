using System.Reflection;
using System.Runtime.CompilerServices;
using PublicApiGenerator;

namespace Sparrow.TestSupport;

/// <summary>
/// Locks an assembly's public API to a committed file, so that changing it is a decision: a test compares
/// <c>GeneratePublicApi()</c> with <c>PublicApi.approved.txt</c> next to the test, and on a difference fails with
/// the first lines that differ and how to accept the change (<c>SPARROW_ACCEPT_API=1</c> rewrites the file).
/// </summary>
internal static class ApiSnapshot
{
    public const string AcceptVariable = "SPARROW_ACCEPT_API";

    public static void Verify(Assembly assembly, string[]? denyNamespacePrefixes = null, [CallerFilePath] string testFile = "")
    {
        var defaults = new ApiGeneratorOptions();
        var options = new ApiGeneratorOptions
        {
            // InternalsVisibleTo and the like are build settings, not API.
            IncludeAssemblyAttributes = false,
            DenyNamespacePrefixes = [.. defaults.DenyNamespacePrefixes, .. denyNamespacePrefixes ?? []],
        };
        var actual = Normalize(assembly.GeneratePublicApi(options));
        var testFolder = Path.GetDirectoryName(testFile)!;
        var approvedFile = Path.Combine(testFolder, "PublicApi.approved.txt");
        var approved = File.Exists(approvedFile) ? Normalize(File.ReadAllText(approvedFile)) : null;
        if (actual == approved) return;

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(approvedFile, actual);
            return;
        }
        var project = Path.GetFileName(testFolder);
        var how = $"If the change is intended, accept it: `{AcceptVariable}=1 dotnet test tests/{project} --filter PublicApi` " +
                  $"rewrites {approvedFile}; review its diff and commit it.";
        Assert.Fail(approved is null
            ? $"The public API of {assembly.GetName().Name} has no approved snapshot ({approvedFile} is missing). {how}"
            : $"The public API of {assembly.GetName().Name} changed.\n{FirstDifferences(approved, actual)}\n{how}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd() + "\n";

    private static string FirstDifferences(string approved, string actual)
    {
        var before = approved.Split('\n');
        var after = actual.Split('\n');
        var lines = new List<string>();
        var removed = before.Except(after).Take(10).Select(l => "- " + l.Trim());
        var added = after.Except(before).Take(10).Select(l => "+ " + l.Trim());
        lines.AddRange(removed);
        lines.AddRange(added);
        return string.Join('\n', lines);
    }
}
