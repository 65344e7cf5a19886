using Sparrow.TestSupport;

namespace Sparrow.Data.Tests;

/// <summary>The public API of Sparrow.Data is what PublicApi.approved.txt says; changing it is a decision (see <see cref="ApiSnapshot"/>).</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedSnapshot() => ApiSnapshot.Verify(typeof(Sparrow.Data.Models.DefaultModel).Assembly);
}
