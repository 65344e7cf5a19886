using Sparrow.TestSupport;

namespace Sparrow.Graph.Tests;

/// <summary>The public API of Sparrow.Graph is what PublicApi.approved.txt says; changing it is a decision (see <see cref="ApiSnapshot"/>).</summary>
public class PublicApiTests
{
    // The ONNX message classes are generated from onnx.proto (locked by that file), thousands of lines of
    // protobuf plumbing; the snapshot covers the hand-written API.

    [Fact]
    public void PublicApi_MatchesTheApprovedSnapshot() => ApiSnapshot.Verify(typeof(Sparrow.Graph.Model).Assembly, denyNamespacePrefixes: ["Sparrow.Graph.Onnx.Proto"]);
}
