namespace Sparrow.TestSupport;

/// <summary>Finds ../shared (read-only data beside the repository) from wherever the test binaries run.</summary>
public static class SharedFolder
{
    public const string NodeTestsVariable = "SPARROW_ONNX_NODE_TESTS";

    /// <summary>The ONNX node test cases folder, or null when it is absent.</summary>
    public static string? NodeTests { get; } = FindNodeTests();

    public static string NodeTestsMissingReason =>
        $"ONNX node tests not found: set {NodeTestsVariable} or place them at ../shared/onnx-node-tests beside the repository.";

    /// <summary>The repository root (the folder holding Sparrow.slnx).</summary>
    public static string? RepositoryRoot => FindRepositoryRoot();

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sparrow.slnx"))) return dir.FullName;
        return null;
    }

    private static string? FindNodeTests()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(NodeTestsVariable);
        if (!string.IsNullOrEmpty(fromEnvironment)) return Directory.Exists(fromEnvironment) ? fromEnvironment : null;
        if (RepositoryRoot is null) return null;
        var candidate = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "onnx-node-tests"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}
