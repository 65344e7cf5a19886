using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

/// <summary>
/// GemmParallel's worker pool: every item runs exactly once, from several callers at once, nested, after an
/// exception, and with the pool's workers parked (no spinning). No timing is asserted.
/// </summary>
public sealed class GemmParallelTests
{
    private static int[] RunCounts(int count, int threads)
    {
        var runs = new int[count];
        GemmParallel.For(count, threads, i => Interlocked.Increment(ref runs[i]));
        return runs;
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(7, 2)]
    [InlineData(64, 2)]
    [InlineData(1000, 4)]
    [InlineData(5, 1)]
    public void EveryItemRunsOnce(int count, int threads)
    {
        for (var repeat = 0; repeat < 200; repeat++)
            Assert.All(RunCounts(count, threads), runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void UsesMoreThanTheCallingThreadWhenItemsWait()
    {
        if (Environment.ProcessorCount < 2) return;
        var caller = Environment.CurrentManagedThreadId;
        var others = 0;
        // Each item waits until some other thread has run one, or 100 ms: a pool (or Parallel.For) thread must join.
        for (var repeat = 0; repeat < 20 && Volatile.Read(ref others) == 0; repeat++)
            GemmParallel.For(8, 2, _ =>
            {
                if (Environment.CurrentManagedThreadId != caller) Interlocked.Increment(ref others);
                else SpinWait.SpinUntil(() => Volatile.Read(ref others) > 0, 100);
            });
        Assert.True(others > 0);
    }

    [Fact]
    public void ConcurrentCallersEachGetEveryItem()
    {
        const int callers = 6;
        var failures = 0;
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            var random = new Random(100 + c);
            for (var repeat = 0; repeat < 300; repeat++)
            {
                var count = random.Next(0, 40);
                var runs = RunCounts(count, 2 + c % 3);
                if (runs.Any(r => r != 1)) Interlocked.Increment(ref failures);
            }
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        Assert.Equal(0, failures);
    }

    [Fact]
    public void NestedCallsRunEveryItem()
    {
        for (var repeat = 0; repeat < 50; repeat++)
        {
            var runs = new int[12, 9];
            GemmParallel.For(12, 2, i => GemmParallel.For(9, 2, j => Interlocked.Increment(ref runs[i, j])));
            foreach (var value in runs) Assert.Equal(1, value);
        }
    }

    [Fact]
    public void NestedCallsInsideAPoolJobRunInline()
    {
        var pool = new GemmParallel.WorkerPool();
        var elsewhere = 0;
        var inner = 0;
        Assert.True(pool.TryRun(6, 2, _ =>
        {
            var outer = Environment.CurrentManagedThreadId;
            GemmParallel.For(16, 2, _ =>
            {
                Interlocked.Increment(ref inner);
                if (Environment.CurrentManagedThreadId != outer) Interlocked.Increment(ref elsewhere);
            });
        }));
        Assert.Equal(6 * 16, inner);
        Assert.Equal(0, elsewhere);
    }

    [Fact]
    public void AnExceptionReachesTheCallerAndThePoolStaysUsable()
    {
        for (var repeat = 0; repeat < 20; repeat++)
        {
            var thrown = Assert.Throws<InvalidOperationException>(() => GemmParallel.For(32, 2, i =>
            {
                if (i == 5 + repeat % 20) throw new InvalidOperationException($"item {i}");
            }));
            Assert.StartsWith("item ", thrown.Message);
            Assert.All(RunCounts(50, 2), runs => Assert.Equal(1, runs));
        }
    }

    [Fact]
    public void AnExceptionOnEveryItemThrowsOnce()
    {
        var thrown = Assert.Throws<ArgumentException>(() => GemmParallel.For(10, 2, _ => throw new ArgumentException("always")));
        Assert.Equal("always", thrown.Message);
    }

    [Fact]
    public void WorksWithWorkersParkedAtOnce()
    {
        var saved = GemmParallel.SpinMicroseconds;
        try
        {
            GemmParallel.SpinMicroseconds = 0;
            for (var repeat = 0; repeat < 200; repeat++)
            {
                Assert.All(RunCounts(9, 2), runs => Assert.Equal(1, runs));
                if (repeat % 50 == 0) Thread.Sleep(5); // the workers park between calls
            }
        }
        finally { GemmParallel.SpinMicroseconds = saved; }
    }

    [Fact]
    public void DirectPoolRunReportsBusyToASecondCaller()
    {
        var pool = new GemmParallel.WorkerPool();
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = new Thread(() => pool.TryRun(2, 2, i =>
        {
            if (i == 0) { inside.Set(); release.Wait(); }
        }));
        first.Start();
        inside.Wait();
        Assert.False(pool.TryRun(3, 2, _ => { }));
        release.Set();
        first.Join();
        var runs = new int[5];
        Assert.True(pool.TryRun(5, 2, i => Interlocked.Increment(ref runs[i])));
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.Equal(1, pool.WorkerCount);
    }
}
