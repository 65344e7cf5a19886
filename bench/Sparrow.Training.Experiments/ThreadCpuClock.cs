using System.Runtime.InteropServices;

namespace Sparrow.Training.Experiments;

/// <summary>
/// CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), as in bench/Sparrow.Benchmarks: on a shared
/// machine the wall clock also counts the time other processes hold the core; a single-threaded step's CPU
/// time is its own cost.
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
}
