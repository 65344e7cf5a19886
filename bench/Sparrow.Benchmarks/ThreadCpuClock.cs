using System.Runtime.InteropServices;

namespace Sparrow.Benchmarks;

/// <summary>
/// CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID). On a shared machine the wall clock counts
/// the time other processes hold the core; for single-threaded runs, CPU time gives the kernel's own speed.
/// </summary>
internal static partial class ThreadCpuClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() && Probe();

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(3, out _) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    public static double Seconds()
    {
        if (!IsAvailable) return 0;
        ClockGetTime(3, out var t);
        return t.Seconds + t.Nanoseconds * 1e-9;
    }

    /// <summary>Thread CPU seconds where available, else wall-clock seconds (Stopwatch): for differences only, never mixed.</summary>
    public static double SecondsOrWall() =>
        IsAvailable ? Seconds() : System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency;
}
