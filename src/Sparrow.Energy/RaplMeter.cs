using System.Globalization;
using System.Text.RegularExpressions;

namespace Sparrow.Energy;

/// <summary>
/// Reads the CPU packages' RAPL energy counters through Linux powercap: every top-level <c>intel-rapl:N</c> domain
/// (one per socket; AMD's driver uses the same name), summed. Nested subdomains (<c>intel-rapl:N:M</c>: cores,
/// uncore, DRAM) are parts of a package or outside it and are never added, nor are <c>intel-rapl-mmio</c> (the same
/// package again) or <c>psys</c> (the whole platform). Counters wrap at <c>max_energy_range_uj</c>, about 65 kJ on AMD
/// Zen (5.5 minutes at 200 W) and 262 kJ on Intel, and a difference of two readings can undo one wrap only; so, as
/// CodeCarbon does, a measurement reads the counters every <see cref="PollInterval"/> and adds up the steps.
/// The figure covers the whole package, whatever ran on it, and excludes DRAM.
/// </summary>
public sealed partial class RaplMeter : IEnergyMeter
{
    /// <summary>Where Linux exposes powercap.</summary>
    public const string DefaultRoot = "/sys/class/powercap";

    private readonly Func<string, string> _readText;

    private RaplMeter(IReadOnlyList<RaplDomain> domains, Func<string, string> readText)
    {
        Domains = domains;
        _readText = readText;
    }

    /// <summary>
    /// How often a running measurement reads the counters, well under the shortest wrap: a 2^32 µJ range (the
    /// smallest seen) lasts 8.6 s at 500 W. Reading a few sysfs files costs microseconds.
    /// </summary>
    internal TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Reads a running measurement's counters now, as its timer does (tests: with <see cref="PollInterval"/> infinite, the reads happen only here).</summary>
    internal static void PollNow(EnergyMeasurement measurement) => ((Measurement)measurement).Poll();

    /// <summary>The package domains summed, in socket order.</summary>
    public IReadOnlyList<RaplDomain> Domains { get; }

    /// <inheritdoc />
    public EnergyMethod Method => EnergyMethod.Rapl;

    /// <inheritdoc />
    public string Description => $"RAPL via powercap: {string.Join(", ", Domains.Select(d => $"{d.Id} ({d.Name})"))}";

    /// <summary>
    /// Finds the package domains under <paramref name="root"/> and checks their counters can be read.
    /// </summary>
    /// <param name="root">The powercap folder; tests give a fake tree.</param>
    /// <param name="reason">Why there is no meter: no powercap, no package domain, or a counter that cannot be read (with how to grant access).</param>
    /// <returns>The meter, or null with <paramref name="reason"/>.</returns>
    public static RaplMeter? TryCreate(string root, out string reason) => TryCreate(root, File.ReadAllText, out reason);

    /// <summary><see cref="TryCreate(string, out string)"/> with the file reader injectable, so tests can make reads fail as the kernel does.</summary>
    internal static RaplMeter? TryCreate(string root, Func<string, string> readText, out string reason)
    {
        if (!Directory.Exists(root))
        {
            reason = $"no RAPL: {root} does not exist (not Linux, or a virtual machine or container without powercap)";
            return null;
        }
        var folders = Directory.EnumerateDirectories(root)
            .Select(path => (Path: path, Match: PackageDomainName().Match(Path.GetFileName(path))))
            .Where(x => x.Match.Success)
            .OrderBy(x => int.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture))
            .ToArray();
        var domains = new List<RaplDomain>();
        foreach (var (path, _) in folders)
        {
            var energyFile = Path.Combine(path, "energy_uj");
            if (!File.Exists(energyFile)) continue;
            string name;
            try
            {
                var nameFile = Path.Combine(path, "name");
                name = File.Exists(nameFile) ? readText(nameFile).Trim() : "package";
                // psys (the whole platform) also sits at the top level on some laptops; it contains the packages.
                if (!name.StartsWith("package", StringComparison.OrdinalIgnoreCase)) continue;
                var maxFile = Path.Combine(path, "max_energy_range_uj");
                var max = File.Exists(maxFile) ? ParseMicrojoules(readText(maxFile), maxFile) : 0;
                // Read the counter once now: a file that exists but cannot be read fails here, not mid-measurement.
                ParseMicrojoules(readText(energyFile), energyFile);
                domains.Add(new RaplDomain(Path.GetFileName(path), name, energyFile, max));
            }
            catch (UnauthorizedAccessException)
            {
                reason = Unreadable(energyFile);
                return null;
            }
            catch (IOException e)
            {
                reason = $"RAPL: {energyFile} could not be read ({e.Message})";
                return null;
            }
        }
        if (domains.Count == 0)
        {
            reason = $"no RAPL: {root} has no readable package domain (intel-rapl:N with energy_uj)";
            return null;
        }
        reason = "";
        return new RaplMeter(domains, readText);
    }

    /// <summary>Why a counter that exists cannot be read, and the ways to allow it.</summary>
    internal static string Unreadable(string energyFile) =>
        $"RAPL: {energyFile} exists but cannot be read (permission denied): since Linux 5.10 energy_uj is readable by root only "
        + "(a side-channel fix, CVE-2020-8694). To allow it until the next boot: sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj; "
        + "for good, a udev rule such as /etc/udev/rules.d/99-powercap.rules with "
        + "ACTION==\"add\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", RUN+=\"/bin/chgrp power /sys%p/energy_uj\", RUN+=\"/bin/chmod g+r /sys%p/energy_uj\" "
        + "and your user in the group 'power' (or run as root)";

    /// <inheritdoc />
    public EnergyMeasurement Start() => new Measurement(this);

    /// <summary>Current counter values in µJ, one per domain.</summary>
    private long[] ReadCounters()
    {
        var values = new long[Domains.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var file = Domains[i].EnergyFile;
            try
            {
                values[i] = ParseMicrojoules(_readText(file), file);
            }
            catch (UnauthorizedAccessException)
            {
                throw new EnergyMeterException(Unreadable(file));
            }
            catch (IOException e)
            {
                throw new EnergyMeterException($"RAPL: {file} could not be read ({e.Message})", e);
            }
        }
        return values;
    }

    /// <summary>The energy between two readings of one counter in µJ, undoing one wrap at <paramref name="maxRange"/>.</summary>
    public static long Delta(long start, long end, long maxRange)
    {
        if (end >= start) return end - start;
        // The counter passed maxRange and restarted at 0.
        if (maxRange <= 0) throw new EnergyMeterException($"RAPL counter went back ({start} → {end} µJ) and its max_energy_range_uj is unknown.");
        return maxRange - start + end;
    }

    private static long ParseMicrojoules(string text, string file) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new EnergyMeterException($"RAPL: {file} does not hold a number of microjoules ('{text.Trim()}').");

    [GeneratedRegex(@"^intel-rapl:(\d+)$")]
    private static partial Regex PackageDomainName();

    private sealed class Measurement : EnergyMeasurement
    {
        private readonly RaplMeter _meter;
        private readonly long _startTimestamp;
        private readonly TimeSpan _startCpu;
        private readonly Lock _lock = new();
        private readonly long[] _last;
        private readonly long[] _sum;
        private readonly Timer _poll;
        private EnergyMeterException? _pollError;

        public Measurement(RaplMeter meter)
        {
            _meter = meter;
            _startCpu = ProcessUsage.CurrentProcess().CpuTime;
            _startTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
            _last = meter.ReadCounters();
            _sum = new long[_last.Length];
            _poll = new Timer(_ => PollFromTimer(), null, meter.PollInterval, meter.PollInterval);
        }

        /// <summary>Reads the counters and adds each step since the last reading (one wrap at most per step).</summary>
        internal void Poll()
        {
            lock (_lock)
            {
                var now = _meter.ReadCounters();
                for (var i = 0; i < now.Length; i++)
                {
                    _sum[i] += Delta(_last[i], now[i], _meter.Domains[i].MaxEnergyRangeMicrojoules);
                    _last[i] = now[i];
                }
            }
        }

        private void PollFromTimer()
        {
            try
            {
                Poll();
            }
            catch (EnergyMeterException e)
            {
                // Reported by Stop: a timer thread has no caller to tell.
                _pollError ??= e;
            }
        }

        protected override EnergyReading StopCore()
        {
            // Waits for a poll in progress, so that none runs after the last reading.
            using (var stopped = new ManualResetEvent(false))
            {
                if (_poll.Dispose(stopped)) stopped.WaitOne();
            }
            if (_pollError is { } error) throw error;
            Poll();
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(_startTimestamp);
            var cpu = (ProcessUsage.CurrentProcess().CpuTime - _startCpu).TotalSeconds;
            long microjoules = 0;
            var inputs = new List<EnergyInput>();
            for (var i = 0; i < _sum.Length; i++)
            {
                var d = _meter.Domains[i];
                var delta = _sum[i];
                microjoules += delta;
                inputs.Add(new EnergyInput($"{d.Id} ({d.Name})", (delta / 1e6).ToString("0.###", CultureInfo.InvariantCulture) + " J"));
            }
            var joules = microjoules / 1e6;
            inputs.Add(new EnergyInput("scope", "whole CPU packages (every process on them), DRAM excluded"));
            return new EnergyReading(joules, elapsed, EnergyMethod.Rapl, cpu, joules, 0, inputs);
        }
    }
}

/// <summary>One RAPL package domain.</summary>
/// <param name="Id">The folder name, e.g. <c>intel-rapl:0</c>.</param>
/// <param name="Name">Its <c>name</c> file, e.g. <c>package-0</c>.</param>
/// <param name="EnergyFile">The path of its <c>energy_uj</c> counter.</param>
/// <param name="MaxEnergyRangeMicrojoules">Where the counter wraps to 0 (<c>max_energy_range_uj</c>; 0 when unknown).</param>
public sealed record RaplDomain(string Id, string Name, string EnergyFile, long MaxEnergyRangeMicrojoules);
