using Sparrow.Graph.Builders;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

public class LatencyComparisonTests
{
    private static Dictionary<string, Tensor> Image()
    {
        var random = new Random(7);
        var pixels = new float[1 * 3 * 32 * 32];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        return new Dictionary<string, Tensor> { [SmallCnn.InputName] = Tensor<float>.FromArray(pixels, [1, 3, 32, 32]) };
    }

    [Fact]
    public void Measure_ReturnsBothMediansAndTheirRatio()
    {
        using var baseline = new InferenceSession(SmallCnn.Build(seed: 1));
        using var candidate = new InferenceSession(SmallCnn.Build(seed: 2, width: 4));
        var inputs = Image();

        var latency = LatencyComparison.Measure(baseline, candidate, inputs, warmupRuns: 2, timedRuns: 5);

        Assert.True(latency.BaselineMedian > TimeSpan.Zero);
        Assert.True(latency.CandidateMedian > TimeSpan.Zero);
        Assert.Equal(latency.BaselineMedian.TotalSeconds / latency.CandidateMedian.TotalSeconds, latency.SpeedUp, 12);
        // The inputs belong to the caller and are still usable afterwards.
        Assert.Equal(3 * 32 * 32, inputs[SmallCnn.InputName].Length);
    }

    [Fact]
    public void SpeedUp_IsBaselineOverCandidate()
    {
        var latency = new LatencyComparison(TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(10));
        Assert.Equal(3.0, latency.SpeedUp, 12);
    }

    [Fact]
    public void Measure_RejectsBadArguments()
    {
        using var session = new InferenceSession(SmallCnn.Build());
        var inputs = Image();
        Assert.Throws<ArgumentNullException>(() => LatencyComparison.Measure(null!, session, inputs));
        Assert.Throws<ArgumentNullException>(() => LatencyComparison.Measure(session, session, null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyComparison.Measure(session, session, inputs, warmupRuns: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyComparison.Measure(session, session, inputs, timedRuns: 0));
    }
}
