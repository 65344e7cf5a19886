using System.ComponentModel;
using System.Diagnostics;
using Sparrow.Energy;

namespace Sparrow.Cli.Execution;

/// <summary>What one measured command did and cost.</summary>
internal sealed record EnergyRunResult(
    IReadOnlyList<string> Command, int ExitCode, TimeSpan Duration, double CpuSeconds, long PeakResidentBytes,
    EnergyReading Reading, Footprint Footprint, IReadOnlyList<string> Skipped);

/// <summary>
/// Runs a command as a child process and measures it, as CodeCarbon does for a script: with a package counter
/// (RAPL or perf) the energy of the whole CPU packages while it ran; otherwise the estimate from the child's CPU time
/// (getrusage of finished children: the child and every descendant it waited for, as <c>time</c> counts) and its
/// resident memory (sampled every 100 ms).
/// </summary>
internal static class EnergyRun
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(100);

    public static EnergyRunResult Run(IReadOnlyList<string> command, EnergySettings settings)
    {
        if (command.Count == 0) throw new UsageException("energy needs a command to run, e.g. sparrow energy -- python train.py.");
        var footprint = settings.Footprint();
        long peakResident = 0;
        var childrenBefore = ProcessUsage.FinishedChildren();
        TimeSpan lastSampledCpu = default;
        // Children's CPU time from the kernel after the child is reaped (Linux); elsewhere the last sample of the child.
        ResourceUsage ChildUsage() => new((ProcessUsage.FinishedChildren()?.CpuTime ?? lastSampledCpu), peakResident);
        var choice = settings.ChooseMeter(ChildUsage, "the command (its CPU time and its descendants')");

        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
        using var measurement = choice.Meter.Start();
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new UsageException($"'{command[0]}' could not be started.");
        }
        catch (Win32Exception e)
        {
            throw new UsageException($"'{command[0]}' could not be started: {e.Message}. Give a program on PATH or a path, after '--'.");
        }
        using (process)
        {
            var started = Stopwatch.GetTimestamp();
            while (!process.WaitForExit(SampleEvery)) Sample(process, ref peakResident, ref lastSampledCpu);
            process.WaitForExit();
            var duration = Stopwatch.GetElapsedTime(started);
            var reading = measurement.Stop();
            var childrenAfter = ProcessUsage.FinishedChildren();
            var cpu = childrenBefore is { } b && childrenAfter is { } a2 ? (a2.CpuTime - b.CpuTime).TotalSeconds : lastSampledCpu.TotalSeconds;
            return new EnergyRunResult(command, process.ExitCode, duration, Math.Max(0, cpu), peakResident, reading, footprint.Of(reading.Joules), choice.Skipped);
        }
    }

    private static void Sample(Process process, ref long peakResident, ref TimeSpan cpu)
    {
        try
        {
            process.Refresh();
            peakResident = Math.Max(peakResident, process.WorkingSet64);
            cpu = process.TotalProcessorTime;
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // It ended between the wait and the sample.
        }
    }
}
