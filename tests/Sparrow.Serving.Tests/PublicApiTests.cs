using Sparrow.TestSupport;

namespace Sparrow.Serving.Tests;

/// <summary>The public API of Sparrow.Serving is what PublicApi.approved.txt says; changing it is a decision (see <see cref="ApiSnapshot"/>).</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedSnapshot() => ApiSnapshot.Verify(typeof(SparrowServer).Assembly);
}
