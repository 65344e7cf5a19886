using System.Diagnostics;
using System.Globalization;

namespace Sparrow.Energy;

/// <summary>
/// Reads the RAPL package counter through perf's <c>power/energy-pkg/</c> event, for kernels that expose it to perf
/// (<c>/sys/bus/event_source/devices/power</c>) but not through powercap. .NET has no binding to perf_event_open, so
/// this runs the <c>perf</c> tool: each measurement starts <c>perf stat -a -e power/energy-pkg/ -x, -- cat</c>, waits
/// until <c>cat</c> echoes a line back (the counter is then running), and on stop closes cat's input, so that perf
/// prints the count. The figure covers every package (system-wide), excludes DRAM, and includes perf's own start-up
/// and shut-down (milliseconds); it needs the perf tool and <c>perf_event_paranoid</c> ≤ 0 or CAP_PERFMON.
/// </summary>
public sealed class PerfMeter : IEnergyMeter
{
    /// <summary>Where the kernel lists the RAPL events for perf.</summary>
    public const string DefaultEventSource = "/sys/bus/event_source/devices/power";

    /// <summary>The perf event read.</summary>
    public const string EventName = "power/energy-pkg/";

    private PerfMeter(string perfPath) => PerfPath = perfPath;

    /// <summary>The perf executable run.</summary>
    public string PerfPath { get; }

    /// <inheritdoc />
    public EnergyMethod Method => EnergyMethod.Perf;

    /// <inheritdoc />
    public string Description => $"perf {EventName} (system-wide, via {PerfPath} stat)";

    /// <summary>Checks the event exists and that perf can count it (one short probe measurement).</summary>
    /// <param name="eventSource">The perf power event source folder; tests give a fake one.</param>
    /// <param name="perfPath">The perf executable, a path or a name looked up on PATH.</param>
    /// <param name="reason">Why there is no meter.</param>
    /// <returns>The meter, or null with <paramref name="reason"/>.</returns>
    public static PerfMeter? TryCreate(string eventSource, string perfPath, out string reason)
    {
        if (!File.Exists(Path.Combine(eventSource, "events", "energy-pkg")))
        {
            reason = $"no perf energy event: {Path.Combine(eventSource, "events", "energy-pkg")} does not exist";
            return null;
        }
        var resolved = FindExecutable(perfPath);
        if (resolved is null)
        {
            reason = $"perf exposes {EventName} but the perf tool '{perfPath}' is not installed (e.g. apt install linux-perf)";
            return null;
        }
        var meter = new PerfMeter(resolved);
        try
        {
            using var probe = meter.Start();
            probe.Stop();
        }
        catch (EnergyMeterException e)
        {
            reason = e.Message;
            return null;
        }
        reason = "";
        return meter;
    }

    /// <inheritdoc />
    public EnergyMeasurement Start() => new Measurement(this);

    /// <summary>
    /// The joules in perf stat's CSV output (<c>-x,</c>: value,unit,event,...); throws with perf's own words when the
    /// event was not counted.
    /// </summary>
    public static double ParseJoules(string perfOutput)
    {
        foreach (var raw in perfOutput.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.Contains(EventName, StringComparison.Ordinal) && !line.Contains("energy-pkg", StringComparison.Ordinal)) continue;
            var fields = line.Split(',');
            if (fields.Length >= 3 && fields[2].Contains("energy-pkg", StringComparison.Ordinal))
            {
                if (double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                    return fields[1].Trim() switch
                    {
                        "Joules" or "J" or "" => value,
                        "mJ" => value / 1e3,
                        "uJ" or "µJ" => value / 1e6,
                        var unit => throw new EnergyMeterException($"perf reported {EventName} in an unknown unit '{unit}'."),
                    };
                throw new EnergyMeterException($"perf could not count {EventName}: '{fields[0]}' (check perf_event_paranoid ≤ 0 or CAP_PERFMON).");
            }
        }
        var said = string.Join(' ', perfOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(3));
        throw new EnergyMeterException($"perf printed no {EventName} count" + (said.Length > 0 ? $": {said}" : "") + " (perf_event_paranoid must be ≤ 0, or run with CAP_PERFMON).");
    }

    private static string? FindExecutable(string name)
    {
        if (name.Contains('/')) return File.Exists(name) ? name : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private sealed class Measurement : EnergyMeasurement
    {
        private readonly Process _perf;
        private readonly Task<string> _stderr;
        private readonly long _startTimestamp;
        private readonly TimeSpan _startCpu;

        public Measurement(PerfMeter meter)
        {
            var info = new ProcessStartInfo(meter.PerfPath)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "stat", "-a", "-e", EventName, "-x,", "--", "cat" }) info.ArgumentList.Add(a);
            try
            {
                _perf = Process.Start(info) ?? throw new EnergyMeterException($"perf: {meter.PerfPath} did not start.");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new EnergyMeterException($"perf: {meter.PerfPath} could not be started ({e.Message}).", e);
            }
            _stderr = _perf.StandardError.ReadToEndAsync();
            // cat echoes once it runs, and perf enables its counters as cat starts: from here on energy is counted.
            _perf.StandardInput.WriteLine("start");
            _perf.StandardInput.Flush();
            var echoed = _perf.StandardOutput.ReadLineAsync();
            if (!echoed.Wait(TimeSpan.FromSeconds(10)) || echoed.Result is null)
            {
                Kill();
                throw new EnergyMeterException($"perf stat -e {EventName} did not start counting: {StderrSoFar()}");
            }
            _startCpu = ProcessUsage.CurrentProcess().CpuTime;
            _startTimestamp = Stopwatch.GetTimestamp();
        }

        protected override EnergyReading StopCore()
        {
            var elapsed = Stopwatch.GetElapsedTime(_startTimestamp);
            var cpu = (ProcessUsage.CurrentProcess().CpuTime - _startCpu).TotalSeconds;
            _perf.StandardInput.Close();
            if (!_perf.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                Kill();
                throw new EnergyMeterException("perf stat did not finish within 10 s of its input closing.");
            }
            var joules = ParseJoules(_stderr.Result);
            var inputs = new List<EnergyInput>
            {
                new("event", EventName),
                new("scope", "whole CPU packages, system-wide (every process), DRAM excluded"),
            };
            return new EnergyReading(joules, elapsed, EnergyMethod.Perf, cpu, joules, 0, inputs);
        }

        private string StderrSoFar() => _stderr.Wait(TimeSpan.FromSeconds(2)) ? _stderr.Result.Trim() : "(no output)";

        private void Kill()
        {
            try
            {
                if (!_perf.HasExited) _perf.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }

        protected override void DisposeCore()
        {
            Kill();
            _perf.Dispose();
        }
    }
}
