using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

/// <summary>
/// GemmParallel, through its default path and through a worker pool of its own (the shared pool is opt-in, so the
/// pool's cases call one directly): every item runs exactly once, from several callers at once, nested, after an
/// exception, and with the pool's workers parked (no spinning). No timing is asserted.
/// </summary>
public sealed class GemmParallelTests
{
    private static readonly GemmParallel.WorkerPool Pool = new();

    /// <summary>GemmParallel.For, or this class's pool (running the items inline, as For would fall back, when it is busy).</summary>
    private static void Run(bool pool, int count, int threads, Action<int> body)
    {
        if (!pool) GemmParallel.For(count, threads, body);
        else if (!Pool.TryRun(count, threads, body))
            for (var i = 0; i < count; i++) body(i);
    }

    private static int[] RunCounts(int count, int threads, bool pool = false)
    {
        var runs = new int[count];
        Run(pool, count, threads, i => Interlocked.Increment(ref runs[i]));
        return runs;
    }

    [Theory]
    [InlineData(0, 2, false)]
    [InlineData(1, 2, false)]
    [InlineData(2, 2, false)]
    [InlineData(7, 2, false)]
    [InlineData(64, 2, false)]
    [InlineData(1000, 4, false)]
    [InlineData(5, 1, false)]
    [InlineData(0, 2, true)]
    [InlineData(1, 2, true)]
    [InlineData(7, 2, true)]
    [InlineData(64, 2, true)]
    [InlineData(1000, 4, true)]
    [InlineData(5, 1, true)]
    public void EveryItemRunsOnce(int count, int threads, bool pool)
    {
        for (var repeat = 0; repeat < 200; repeat++)
            Assert.All(RunCounts(count, threads, pool), runs => Assert.Equal(1, runs));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UsesMoreThanTheCallingThreadWhenItemsWait(bool pool)
    {
        if (Environment.ProcessorCount < 2) return;
        var caller = Environment.CurrentManagedThreadId;
        var others = 0;
        // Each item waits until some other thread has run one, or 100 ms: a pool (or Parallel.For) thread must join.
        for (var repeat = 0; repeat < 20 && Volatile.Read(ref others) == 0; repeat++)
            Run(pool, 8, 2, _ =>
            {
                if (Environment.CurrentManagedThreadId != caller) Interlocked.Increment(ref others);
                else SpinWait.SpinUntil(() => Volatile.Read(ref others) > 0, 100);
            });
        Assert.True(others > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConcurrentCallersEachGetEveryItem(bool pool)
    {
        const int callers = 6;
        var failures = 0;
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            var random = new Random(100 + c);
            for (var repeat = 0; repeat < 300; repeat++)
            {
                var count = random.Next(0, 40);
                var runs = RunCounts(count, 2 + c % 3, pool);
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnExceptionReachesTheCallerAndThePoolStaysUsable(bool pool)
    {
        for (var repeat = 0; repeat < 20; repeat++)
        {
            var thrown = Assert.Throws<InvalidOperationException>(() => Run(pool, 32, 2, i =>
            {
                if (i == 5 + repeat % 20) throw new InvalidOperationException($"item {i}");
            }));
            Assert.StartsWith("item ", thrown.Message);
            Assert.All(RunCounts(50, 2, pool), runs => Assert.Equal(1, runs));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnExceptionOnEveryItemThrowsOnce(bool pool)
    {
        var thrown = Assert.Throws<ArgumentException>(() => Run(pool, 10, 2, _ => throw new ArgumentException("always")));
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
                Assert.All(RunCounts(9, 2, pool: true), runs => Assert.Equal(1, runs));
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
