using Sparrow.Graph.Onnx.Proto;
using Sparrow.Runtime.Operators;
using Sparrow.TestSupport;

namespace Sparrow.Conformance.Tests;

/// <summary>
/// The ONNX node test cases (../shared/onnx-node-tests, or the folder in SPARROW_ONNX_NODE_TESTS) that
/// exercise only operators Sparrow claims to run.
/// </summary>
public static class NodeTestCases
{
    /// <summary>The folder of cases, or null when it is absent.</summary>
    public static string? Root => SharedFolder.NodeTests;

    public static string MissingReason => SharedFolder.NodeTestsMissingReason;

    /// <summary>Every case whose nodes all use claimed operators, by folder name.</summary>
    public static IReadOnlyList<string> Claimed { get; } = FindClaimed();

    private static IReadOnlyList<string> FindClaimed()
    {
        if (Root is null) return Array.Empty<string>();
        var cases = new List<string>();
        foreach (var dir in Directory.GetDirectories(Root, "test_*").Order(StringComparer.Ordinal))
        {
            // Read the op types from the raw protobuf, not through Sparrow's importer, so that a case that
            // Sparrow fails to load still counts (as a failure or a listed unsupported case).
            var model = Path.Combine(dir, "model.onnx");
            if (!File.Exists(model)) continue;
            var nodes = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model)).Graph.Node;
            if (nodes.Count > 0 && nodes.All(n => OperatorRegistry.IsSupported(n.Domain == "ai.onnx" ? "" : n.Domain, n.OpType)))
                cases.Add(Path.GetFileName(dir));
        }
        return cases;
    }

    public static IEnumerable<object[]> ClaimedData => Claimed.Select(c => new object[] { c });
}
