using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sparrow.Energy;

/// <summary>CPU time (user + system) and resident memory at one moment.</summary>
/// <param name="CpuTime">CPU time consumed so far, summed over threads.</param>
/// <param name="ResidentBytes">Resident memory now (or, for children, the largest seen).</param>
public readonly record struct ResourceUsage(TimeSpan CpuTime, long ResidentBytes);

/// <summary>
/// The resource usage of this process or of its finished children. On Linux it asks the kernel with
/// <c>getrusage</c>, whose user + system total is kept to the scheduler's nanosecond runtime (<c>/proc/self/stat</c>
/// counts whole 10 ms ticks, too coarse for one inference); elsewhere it falls back to <see cref="Process"/>.
/// </summary>
public static partial class ProcessUsage
{
    private const int RusageSelf = 0;
    private const int RusageChildren = -1;

    /// <summary>This process: CPU time of all its threads so far and its resident memory now.</summary>
    public static ResourceUsage CurrentProcess()
    {
        if (OperatingSystem.IsLinux() && TryRusage(RusageSelf, out var cpu, out _)) return new ResourceUsage(cpu, Environment.WorkingSet);
        using var self = Process.GetCurrentProcess();
        return new ResourceUsage(self.TotalProcessorTime, self.WorkingSet64);
    }

    /// <summary>
    /// Children of this process that have ended and been waited for (and their own waited-for descendants), as
    /// <c>time</c> counts them: CPU time summed, resident memory the largest any of them reached. Linux only.
    /// </summary>
    /// <returns>Null where the platform does not say (not Linux).</returns>
    public static ResourceUsage? FinishedChildren() =>
        OperatingSystem.IsLinux() && TryRusage(RusageChildren, out var cpu, out var maxResident) ? new ResourceUsage(cpu, maxResident) : null;

    private static bool TryRusage(int who, out TimeSpan cpu, out long maxResidentBytes)
    {
        cpu = default;
        maxResidentBytes = 0;
        // The struct below is the 64-bit layout.
        if (!Environment.Is64BitProcess) return false;
        try
        {
            if (getrusage(who, out var usage) != 0) return false;
            var micros = (usage.UserSeconds + usage.SystemSeconds) * 1_000_000 + usage.UserMicroseconds + usage.SystemMicroseconds;
            cpu = TimeSpan.FromTicks(micros * 10);
            maxResidentBytes = usage.MaxResidentKilobytes * 1024;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The start of Linux's struct rusage on 64-bit (timeval = two longs); the rest is never read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxResidentKilobytes;
        public long IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVcsw, NIvcsw;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrusage(int who, out Rusage usage);
}
