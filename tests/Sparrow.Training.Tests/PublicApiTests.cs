using Sparrow.TestSupport;

namespace Sparrow.Training.Tests;

/// <summary>The public API of Sparrow.Training is what PublicApi.approved.txt says; changing it is a decision (see <see cref="ApiSnapshot"/>).</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedSnapshot() => ApiSnapshot.Verify(typeof(Sparrow.Training.Trainer).Assembly);
}
