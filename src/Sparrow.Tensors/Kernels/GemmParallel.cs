using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// Runs work items on up to a given number of threads (at most one per core), the caller included; inline when one
/// suffices or when called from inside a pool job. Used by the dense and sparse kernels and by the runtime's intra-op
/// loops (rows, attention, element-wise), so that one run hands its work to one set of threads. By default the items
/// go through Parallel.For; an exception from a body reaches the caller as itself (the first one) on every path.
/// With SPARROW_GEMM_POOL=1 (<see cref="PoolDisabled"/>) they go to <see cref="WorkerPool"/> instead: dedicated
/// background threads that claim items one at a time from a shared counter (the caller waits only for items already
/// claimed, never for a helper that has not woken), spin for at most <see cref="SpinMicroseconds"/> after a job for the
/// next one, then park; when another caller holds the pool the call falls back to Parallel.For. Measured
/// (BENCHMARKS.md, "2-thread short calls: worker pool"): faster in process when the second core is busy, no
/// difference in `sparrow bench kernels` on the quiet machine; hence opt-in.
/// </summary>
internal static class GemmParallel
{
    /// <summary>How long a worker spins for the next job before parking; 0 parks at once (environment: SPARROW_GEMM_SPIN_US, default 50).</summary>
    internal static int SpinMicroseconds = ReadSpinMicroseconds();

    /// <summary>True while this thread runs items of a pool job (nested calls then run inline).</summary>
    [ThreadStatic] private static bool insideJob;

    /// <summary>
    /// The pool is opt-in (environment: SPARROW_GEMM_POOL=1) until it is measured on a quiet machine: the concurrent
    /// load test (8 threads x 1,000 MiniLM runs) took 302 s with it on the busy machine, against 64 s recorded for main.
    /// Off, every call takes the Parallel.For path.
    /// </summary>
    internal static bool PoolDisabled = Environment.GetEnvironmentVariable("SPARROW_GEMM_POOL") != "1";

    public static void For(int count, int threads, Action<int> body)
    {
        if (threads <= 1 || count <= 1 || insideJob)
        {
            for (var i = 0; i < count; i++) body(i);
            return;
        }
        var participants = Math.Min(Math.Min(threads, count), Environment.ProcessorCount);
        if (participants > 1 && !PoolDisabled && WorkerPool.Shared.TryRun(count, participants, body)) return;
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(threads, count) }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private static int ReadSpinMicroseconds() =>
        int.TryParse(Environment.GetEnvironmentVariable("SPARROW_GEMM_SPIN_US"), out var value) && value >= 0 ? value : 50;

    /// <summary>One call's items: claimed through <see cref="next"/>, counted through <see cref="finished"/>.</summary>
    private sealed class Job(int count, Action<int> body)
    {
        public readonly int Count = count;
        public readonly Action<int> Body = body;
        private int next = -1;
        private int finished;
        private int failed;
        private int callerWaiting;
        private Exception? error;

        /// <summary>Claims and runs items until none is left (a thread that comes late finds none).</summary>
        public void RunItems()
        {
            insideJob = true;
            try
            {
                for (var item = Interlocked.Increment(ref next); item < Count; item = Interlocked.Increment(ref next))
                {
                    if (Volatile.Read(ref failed) == 0)
                    {
                        try { Body(item); }
                        catch (Exception e)
                        {
                            // Later items are skipped (still counted), as Parallel.For stops after an exception.
                            if (Interlocked.Exchange(ref failed, 1) == 0) error = e;
                        }
                    }
                    if (Interlocked.Increment(ref finished) == Count && Volatile.Read(ref callerWaiting) != 0)
                        lock (this) Monitor.PulseAll(this);
                }
            }
            finally { insideJob = false; }
        }

        /// <summary>
        /// Waits until every item is finished: spins (the last items are running and usually nearly done; blocking
        /// would add a wake-up as long as the item), then blocks after a bounded time (a thread the OS preempted).
        /// </summary>
        public void WaitFinished()
        {
            if (Volatile.Read(ref finished) != Count)
            {
                var limit = Math.Max(SpinMicroseconds, 200) * Stopwatch.Frequency / 1_000_000;
                var start = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref finished) != Count && Stopwatch.GetTimestamp() - start < limit) Thread.SpinWait(8);
                if (Volatile.Read(ref finished) != Count)
                    lock (this)
                    {
                        Interlocked.Exchange(ref callerWaiting, 1);
                        while (Volatile.Read(ref finished) != Count) Monitor.Wait(this);
                    }
            }
            if (Volatile.Read(ref failed) != 0) ExceptionDispatchInfo.Capture(error!).Throw();
        }
    }

    /// <summary>
    /// Background threads that take part in one job at a time; the caller takes part too and holds the pool until
    /// the job's items are finished. Each worker has its own post (a generation number and the job) and wake event.
    /// </summary>
    internal sealed class WorkerPool
    {
        public static readonly WorkerPool Shared = new();

        private readonly object growLock = new();
        private Worker[] workers = [];
        private int busy;
        private int generation;

        /// <summary>Workers started so far (tests).</summary>
        internal int WorkerCount => Volatile.Read(ref workers).Length;

        /// <summary>Runs the job on the caller and <paramref name="participants"/> - 1 workers; false when another caller holds the pool.</summary>
        public bool TryRun(int count, int participants, Action<int> body)
        {
            if (Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
            try
            {
                var helpers = EnsureWorkers(participants - 1);
                var job = new Job(count, body);
                var posted = ++generation;
                for (var i = 0; i < participants - 1; i++) helpers[i].Post(job, posted);
                job.RunItems();
                job.WaitFinished();
                return true;
            }
            finally { Volatile.Write(ref busy, 0); }
        }

        private Worker[] EnsureWorkers(int needed)
        {
            var current = Volatile.Read(ref workers);
            if (current.Length >= needed) return current;
            lock (growLock)
            {
                current = workers;
                if (current.Length >= needed) return current;
                var grown = new Worker[needed];
                Array.Copy(current, grown, current.Length);
                for (var i = current.Length; i < needed; i++) grown[i] = new Worker(i);
                Volatile.Write(ref workers, grown);
                return grown;
            }
        }
    }

    private sealed class Worker
    {
        private readonly ManualResetEventSlim wake = new(false, spinCount: 1);
        private Job? job;
        private int posted;
        private int parked;

        public Worker(int index)
        {
            new Thread(Loop) { IsBackground = true, Name = $"Sparrow GEMM worker {index + 1}" }.Start();
        }

        public void Post(Job next, int generation)
        {
            Volatile.Write(ref job, next);
            Interlocked.Exchange(ref posted, generation);
            // Both sides write with a full fence before reading the other's flag, so either the worker sees the post
            // before it parks or this call sees that it parked and wakes it.
            if (Volatile.Read(ref parked) != 0) wake.Set();
        }

        private void Loop()
        {
            var seen = 0;
            while (true)
            {
                if (Volatile.Read(ref posted) == seen && !SpinForPost(seen))
                {
                    wake.Reset();
                    Interlocked.Exchange(ref parked, 1);
                    if (Volatile.Read(ref posted) == seen) wake.Wait();
                    Volatile.Write(ref parked, 0);
                    continue;
                }
                seen = Volatile.Read(ref posted);
                var current = Volatile.Read(ref job);
                if (current is null) continue;
                current.RunItems();
                // Drops the job (and the arrays its body holds) unless a newer one was posted meanwhile.
                Interlocked.CompareExchange(ref job, null, current);
            }
        }

        /// <summary>Spins up to <see cref="SpinMicroseconds"/> for a new post; true when one came.</summary>
        private bool SpinForPost(int seen)
        {
            var limit = SpinMicroseconds * Stopwatch.Frequency / 1_000_000;
            if (limit <= 0) return false;
            var start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetTimestamp() - start < limit)
            {
                Thread.SpinWait(8);
                if (Volatile.Read(ref posted) != seen) return true;
            }
            return false;
        }
    }
}
