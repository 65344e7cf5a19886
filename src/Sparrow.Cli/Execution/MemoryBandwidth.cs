using System.Diagnostics;
using System.Numerics;

namespace Sparrow.Cli.Execution;

/// <summary>
/// The machine's memory read bandwidth: several threads each sum their part of a buffer far larger than the
/// caches, best of a few passes. At one row, a weight-bound kernel cannot read faster than this, so the ratio
/// of its achieved bytes per second to this figure says how close it is to the physical limit.
/// </summary>
/// <remarks>
/// A pass lasts from the first worker's start to the last worker's end, as the workers time themselves. It used
/// to be timed by the coordinating thread between two barriers, and with more threads than free cores (two
/// workers and the coordinator on two cores) the coordinator was sometimes descheduled while the workers read,
/// woke after they had finished and timed a near-empty pass: the best pass then reported 127 GB/s (or, on a
/// 64 MB buffer, thousands of GB/s) where the workers really read at 15-40 GB/s. Every 4 KB page of the buffer
/// holds different values, so that no layer below (a hypervisor merging identical pages) can serve it from one
/// cached page.
/// </remarks>
internal static class MemoryBandwidth
{
    /// <returns>Bytes per second.</returns>
    public static double Measure(int threads, long bufferBytes, int passes = 7)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        var length = (int)Math.Min(bufferBytes / sizeof(float), Array.MaxLength);
        // Written first: pages never touched all map to one zero page, which would be read from the cache. Each
        // page starts with its own number (two floats, exact), the rest zeros.
        var buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
        buffer.AsSpan().Fill(0f);
        const int PageFloats = 4096 / sizeof(float);
        for (long i = 0; i + 1 < length; i += PageFloats)
        {
            var page = i / PageFloats;
            buffer[i] = page & 0xFFF;
            buffer[i + 1] = page >> 12;
        }
        var parts = Math.Max(1, Math.Min(threads, length / 4096));
        var sums = new float[parts];
        var firstSums = new float[parts];
        var starts = new long[parts];
        var ends = new long[parts];
        var best = double.MaxValue;
        // Dedicated threads that start each pass together, so that the pass time is the slowest part's read.
        using var start = new Barrier(parts + 1);
        using var done = new Barrier(parts + 1);
        var workers = Enumerable.Range(0, parts).Select(part => new Thread(() =>
        {
            long from = (long)length * part / parts, to = (long)length * (part + 1) / parts;
            for (var pass = 0; pass <= passes; pass++)
            {
                start.SignalAndWait();
                starts[part] = Stopwatch.GetTimestamp();
                sums[part] = Sum(buffer.AsSpan((int)from, (int)(to - from)));
                ends[part] = Stopwatch.GetTimestamp();
                if (pass == 0) firstSums[part] = sums[part];
                else if (sums[part] != firstSums[part]) sums[part] = float.NaN;
                done.SignalAndWait();
            }
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        for (var pass = 0; pass <= passes; pass++)
        {
            start.SignalAndWait();
            done.SignalAndWait();
            var seconds = (double)(ends.Max() - starts.Min()) / Stopwatch.Frequency;
            if (pass > 0) best = Math.Min(best, seconds); // the first pass warms up the threads and the code
        }
        foreach (var w in workers) w.Join();
        // The sums are checked (every pass reads the same, and the pages' numbers are there) so that the reads
        // cannot be optimised away.
        if (sums.Any(s => !float.IsFinite(s)) || (length > PageFloats && sums.All(s => s == 0))) throw new InvalidOperationException("The bandwidth probe misread its buffer.");
        return (double)length * sizeof(float) / best;
    }

    /// <summary>Eight independent accumulators, so that the adds keep up with the loads and memory is the limit.</summary>
    private static float Sum(ReadOnlySpan<float> data)
    {
        var width = Vector<float>.Count;
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        var i = 0;
        for (; i <= data.Length - 8 * width; i += 8 * width)
        {
            a0 += new Vector<float>(data[i..]);
            a1 += new Vector<float>(data[(i + width)..]);
            a2 += new Vector<float>(data[(i + 2 * width)..]);
            a3 += new Vector<float>(data[(i + 3 * width)..]);
            a4 += new Vector<float>(data[(i + 4 * width)..]);
            a5 += new Vector<float>(data[(i + 5 * width)..]);
            a6 += new Vector<float>(data[(i + 6 * width)..]);
            a7 += new Vector<float>(data[(i + 7 * width)..]);
        }
        var sum = Vector.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
        for (; i < data.Length; i++) sum += data[i];
        return sum;
    }
}
