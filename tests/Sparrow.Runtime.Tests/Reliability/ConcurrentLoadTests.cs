using Sparrow.Benchmarks.Load;
using Xunit.Abstractions;

namespace Sparrow.Runtime.Tests.Reliability;

/// <summary>
/// The load test: 8 threads × 1,000 runs of MiniLM (sequence 8) on one shared session, dense and 90% pruned (CSR
/// kernels); every run's outputs must equal, bit for bit, a sequential run's, and none may fail. About a minute on
/// two busy cores; `Sparrow.Benchmarks load` runs the same and writes the figures into BENCHMARKS.md.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ConcurrentLoadTests(ITestOutputHelper output)
{
    private const int Threads = 8, RunsPerThread = 1000, Sequence = 8;

    [Theory]
    [InlineData("dense")]
    [InlineData("pruned90")]
    public void Eight_threads_by_a_thousand_runs_give_the_sequential_results(string variant)
    {
        var model = variant == "dense" ? ConcurrentLoad.MiniLm() : ConcurrentLoad.PrunedMiniLm(0.9);
        using var session = new InferenceSession(model, ConcurrentLoad.Options(variant == "dense" ? "dense" : "csr"));
        var inputs = ConcurrentLoad.MiniLmInputs(8, Sequence);
        var result = ConcurrentLoad.Run(session, variant, inputs, Threads, RunsPerThread);
        output.WriteLine(ConcurrentLoad.Header);
        output.WriteLine(ConcurrentLoad.Row(result));
        Assert.True(result.Failed == 0, $"{result.Failed} runs failed; the first: {result.FirstFailure}");
        Assert.Equal(0, result.Wrong);
        Assert.True(result.P99Ms >= result.P50Ms && result.P50Ms > 0);
    }
}
