using System.Diagnostics;
using System.Numerics.Tensors;

namespace Sparrow.Cli.Execution;

/// <summary>
/// The machine's memory read bandwidth: several threads each sum their part of a buffer far larger than the
/// caches, best of a few passes. At one row, a weight-bound kernel cannot read faster than this, so the ratio
/// of its achieved bytes per second to this figure says how close it is to the physical limit.
/// </summary>
internal static class MemoryBandwidth
{
    /// <returns>Bytes per second.</returns>
    public static double Measure(int threads, long bufferBytes, int passes = 5)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        var length = (int)Math.Min(bufferBytes / sizeof(float), Array.MaxLength);
        // Written first: pages never touched all map to one zero page, which would be read from the cache.
        var buffer = GC.AllocateUninitializedArray<float>(length);
        buffer.AsSpan().Fill(1f);
        var parts = Math.Max(1, Math.Min(threads, length / 4096));
        var sums = new float[parts];
        var best = double.MaxValue;
        for (var pass = 0; pass <= passes; pass++)
        {
            var started = Stopwatch.GetTimestamp();
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
            {
                long start = (long)length * part / parts, end = (long)length * (part + 1) / parts;
                sums[part] = TensorPrimitives.Sum(buffer.AsSpan((int)start, (int)(end - start)));
            });
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (pass > 0) best = Math.Min(best, seconds); // the first pass warms up the threads and the code
        }
        // The sums are checked so that the reads cannot be optimised away.
        if (Math.Abs(sums.Sum() - length) > length * 1e-3) throw new InvalidOperationException("The bandwidth probe misread its buffer.");
        return (double)length * sizeof(float) / best;
    }
}
