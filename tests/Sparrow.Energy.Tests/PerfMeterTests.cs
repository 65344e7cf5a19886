namespace Sparrow.Energy.Tests;

public class PerfMeterTests
{
    [Fact]
    public void Parses_perf_stat_csv()
    {
        Assert.Equal(12.34, PerfMeter.ParseJoules("12.34,Joules,power/energy-pkg/,1002003,100.00,,\n"), 12);
        Assert.Equal(0.5, PerfMeter.ParseJoules("# started on ...\n\n500.0,mJ,power/energy-pkg/,1,100.00,,\n"), 12);
        var e = Assert.Throws<EnergyMeterException>(() => PerfMeter.ParseJoules("<not supported>,Joules,power/energy-pkg/,0,100.00,,"));
        Assert.Contains("not supported", e.Message);
        e = Assert.Throws<EnergyMeterException>(() => PerfMeter.ParseJoules("Error:\nAccess to performance monitoring and observability operations is limited.\n"));
        Assert.Contains("Access to performance monitoring", e.Message);
        Assert.Contains("perf_event_paranoid", e.Message);
    }

    [Fact]
    public void Missing_event_or_tool_is_explained()
    {
        Assert.Null(PerfMeter.TryCreate("/nonexistent/power", "perf", out var reason));
        Assert.Contains("does not exist", reason);
        using var fake = new FakePerf(12.5);
        Assert.Null(PerfMeter.TryCreate(fake.EventSource, "/nonexistent/perf", out reason));
        Assert.Contains("not installed", reason);
    }

    [Fact]
    public void Measures_through_the_perf_tool_around_a_block()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fake = new FakePerf(12.5);
        var meter = PerfMeter.TryCreate(fake.EventSource, fake.Perf, out var reason);
        Assert.True(meter is not null, reason);
        using var m = meter.Start();
        var r = m.Stop();
        Assert.Equal(12.5, r.Joules, 12);
        Assert.Equal(EnergyMethod.Perf, r.Method);
        Assert.False(r.IsEstimated);
        // The fake saw perf's arguments: system-wide, the event, CSV, and cat as the workload.
        Assert.Equal("stat -a -e power/energy-pkg/ -x, -- cat", File.ReadAllText(fake.ArgsFile).Trim());
    }

    [Fact]
    public void Chooser_takes_perf_when_powercap_is_absent()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fake = new FakePerf(3);
        var choice = EnergyMeters.Choose(new EnergyMeterOptions { PowercapRoot = "/nonexistent/powercap", PerfEventSource = fake.EventSource, PerfPath = fake.Perf });
        Assert.IsType<PerfMeter>(choice.Meter);
        Assert.Single(choice.Skipped);
        Assert.Contains("RAPL", choice.Skipped[0]);
    }

    [Fact]
    public void Perf_that_cannot_count_is_skipped_with_its_message()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fake = new FakePerf(null);
        var choice = EnergyMeters.Choose(new EnergyMeterOptions { PowercapRoot = "/nonexistent/powercap", PerfEventSource = fake.EventSource, PerfPath = fake.Perf, CpuModel = "AMD EPYC" });
        Assert.IsType<EstimatedEnergyMeter>(choice.Meter);
        Assert.Contains("perf_event_paranoid", choice.Skipped[1]);
    }

    /// <summary>A shell script that behaves like perf stat: runs the command after "--", then prints the count to stderr.</summary>
    private sealed class FakePerf : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "sparrow-fakeperf-" + Guid.NewGuid().ToString("N"));

        public FakePerf(double? joules)
        {
            Directory.CreateDirectory(Path.Combine(_dir, "power", "events"));
            File.WriteAllText(Path.Combine(_dir, "power", "events", "energy-pkg"), "event=0x02\n");
            Perf = Path.Combine(_dir, "perf");
            ArgsFile = Path.Combine(_dir, "args");
            var report = joules is { } j
                ? $"echo '{j.ToString(System.Globalization.CultureInfo.InvariantCulture)},Joules,power/energy-pkg/,1000000,100.00,,' >&2"
                : "echo '<not counted>,Joules,power/energy-pkg/,0,0.00,,' >&2";
            File.WriteAllText(Perf, $"#!/bin/sh\necho \"$@\" > '{ArgsFile}'\nwhile [ \"$1\" != \"--\" ]; do shift; done\nshift\n\"$@\"\n{report}\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Perf, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public string EventSource => Path.Combine(_dir, "power");
        public string Perf { get; }
        public string ArgsFile { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
