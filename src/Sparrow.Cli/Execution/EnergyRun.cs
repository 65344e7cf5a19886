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

    /// <param name="standardOutput">Where the child's standard output is copied (e.g. our stderr when JSON owns our stdout).</param>
    /// <param name="standardError">Where the child's standard error is copied.</param>
    public static EnergyRunResult Run(IReadOnlyList<string> command, EnergySettings settings, TextWriter standardOutput, TextWriter standardError)
    {
        if (command.Count == 0) throw new UsageException("energy needs a command to run, e.g. sparrow energy -- python train.py.");
        var footprint = settings.Footprint();
        long peakResident = 0;
        TimeSpan lastSampledCpu = default;
        // Children's CPU time from the kernel after the child is reaped (Linux); elsewhere the last sample of the child.
        // Resident memory: the largest sampled, or the children's peak from the kernel for a command shorter than one sample.
        ResourceUsage ChildUsage()
        {
            var children = ProcessUsage.FinishedChildren();
            return new(children?.CpuTime ?? lastSampledCpu, Math.Max(peakResident, children?.ResidentBytes ?? 0));
        }
        var choice = settings.ChooseMeter(ChildUsage, "the command (its CPU time and its descendants')");
        // After choosing: the chooser's perf probe is a child too, reaped by now, and must not count as the command's.
        var childrenBefore = ProcessUsage.FinishedChildren();

        // The child's output is copied through our writers, not inherited: JSON on our stdout stays pure, and whoever
        // holds the writers (a test's console) sees what the command printed.
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
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
            var copies = new[] { Copy(process.StandardOutput, standardOutput), Copy(process.StandardError, standardError) };
            while (!process.WaitForExit(SampleEvery)) Sample(process, ref peakResident, ref lastSampledCpu);
            process.WaitForExit();
            Task.WaitAll(copies);
            var duration = Stopwatch.GetElapsedTime(started);
            var reading = measurement.Stop();
            var childrenAfter = ProcessUsage.FinishedChildren();
            var cpu = childrenBefore is { } b && childrenAfter is { } a2 ? (a2.CpuTime - b.CpuTime).TotalSeconds : lastSampledCpu.TotalSeconds;
            return new EnergyRunResult(command, process.ExitCode, duration, Math.Max(0, cpu), peakResident, reading, footprint.Of(reading.Joules), choice.Skipped);
        }
    }

    /// <summary>Copies a child's stream to a writer as it comes (partial lines too); one lock per writer, as stdout and stderr may share one.</summary>
    private static Task Copy(StreamReader from, TextWriter to) => Task.Run(() =>
    {
        var buffer = new char[4096];
        int read;
        while ((read = from.Read(buffer, 0, buffer.Length)) > 0)
            lock (to)
            {
                to.Write(buffer, 0, read);
                to.Flush();
            }
    });

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
