namespace Sparrow.Energy.Tests;

public class RaplMeterTests
{
    [Fact]
    public void Two_packages_are_summed()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 1_000_000);
        tree.AddDomain("intel-rapl:1", "package-1", 5_000_000);
        var meter = RaplMeter.TryCreate(tree.Root, out var reason);
        Assert.True(meter is not null, reason);
        Assert.Equal(["intel-rapl:0", "intel-rapl:1"], meter.Domains.Select(d => d.Id));
        using var m = meter.Start();
        tree.SetEnergy("intel-rapl:0", 3_500_000);
        tree.SetEnergy("intel-rapl:1", 6_000_000);
        var r = m.Stop();
        Assert.Equal(3.5, r.Joules, 9);
        Assert.Equal(EnergyMethod.Rapl, r.Method);
        Assert.False(r.IsEstimated);
        Assert.Contains(r.Inputs, i => i.Name == "intel-rapl:0 (package-0)" && i.Value == "2.5 J");
        Assert.Contains(r.Inputs, i => i.Name == "intel-rapl:1 (package-1)" && i.Value == "1 J");
    }

    [Fact]
    public void Nested_subdomains_mmio_and_psys_are_not_counted()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 0);
        // Linux links subdomains at the top level of /sys/class/powercap too, and nests them in the package folder.
        tree.AddDomain("intel-rapl:0:0", "core", 0);
        tree.AddDomain("intel-rapl:0:1", "dram", 0);
        Directory.CreateDirectory(Path.Combine(tree.Root, "intel-rapl:0", "intel-rapl:0:0"));
        File.WriteAllText(Path.Combine(tree.Root, "intel-rapl:0", "intel-rapl:0:0", "energy_uj"), "0");
        tree.AddDomain("intel-rapl-mmio:0", "package-0", 0);
        tree.AddDomain("intel-rapl:1", "psys", 0);
        Directory.CreateDirectory(Path.Combine(tree.Root, "intel-rapl")); // the control type folder, no counter
        var meter = RaplMeter.TryCreate(tree.Root, out var reason);
        Assert.True(meter is not null, reason);
        Assert.Equal(["intel-rapl:0"], meter.Domains.Select(d => d.Id));
        using var m = meter.Start();
        tree.SetEnergy("intel-rapl:0", 2_000_000);
        tree.SetEnergy("intel-rapl:0:0", 1_500_000);
        tree.SetEnergy("intel-rapl:0:1", 700_000);
        tree.SetEnergy("intel-rapl-mmio:0", 2_000_000);
        tree.SetEnergy("intel-rapl:1", 9_000_000);
        Assert.Equal(2.0, m.Stop().Joules, 9);
    }

    [Fact]
    public void Counter_wrap_is_undone_with_max_energy_range()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 999_000_000, maxRange: 1_000_000_000);
        var meter = RaplMeter.TryCreate(tree.Root, out _)!;
        using var m = meter.Start();
        tree.SetEnergy("intel-rapl:0", 2_000_000);
        // 1 J to the top, then 2 J after the wrap.
        Assert.Equal(3.0, m.Stop().Joules, 9);
        Assert.Equal(3_000_000, RaplMeter.Delta(999_000_000, 2_000_000, 1_000_000_000));
        Assert.Equal(5, RaplMeter.Delta(10, 15, 1_000));
        Assert.Throws<EnergyMeterException>(() => RaplMeter.Delta(10, 5, 0));
    }

    /// <summary>Three wraps in one measurement: each step between two polls undoes at most one, and the steps add up.</summary>
    [Fact]
    public void A_long_measurement_polls_and_counts_every_wrap()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 0, maxRange: 1_000_000_000);
        var meter = RaplMeter.TryCreate(tree.Root, out _)!;
        meter.PollInterval = Timeout.InfiniteTimeSpan;
        using var m = meter.Start();
        tree.SetEnergy("intel-rapl:0", 900_000_000);
        RaplMeter.PollNow(m);
        tree.SetEnergy("intel-rapl:0", 800_000_000); // wrapped: 100 J to the top, 800 J after
        RaplMeter.PollNow(m);
        tree.SetEnergy("intel-rapl:0", 700_000_000); // wrapped again
        Assert.Equal(900 + 900 + 900, m.Stop().Joules, 9);
    }

    [Fact]
    public void Measurements_nest()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 0);
        var meter = RaplMeter.TryCreate(tree.Root, out _)!;
        using var outer = meter.Start();
        tree.SetEnergy("intel-rapl:0", 1_000_000);
        using var inner = meter.Start();
        tree.SetEnergy("intel-rapl:0", 1_250_000);
        Assert.Equal(0.25, inner.Stop().Joules, 9);
        tree.SetEnergy("intel-rapl:0", 2_000_000);
        Assert.Equal(2.0, outer.Stop().Joules, 9);
        // A second Stop returns the same reading.
        Assert.Equal(0.25, inner.Stop().Joules, 9);
    }

    [Fact]
    public void Unreadable_counter_is_explained_and_the_chooser_falls_back()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 0);
        // The kernel answers EACCES for energy_uj to non-root users since 5.10; .NET raises UnauthorizedAccessException.
        string Deny(string path) => path.EndsWith("energy_uj", StringComparison.Ordinal) ? throw new UnauthorizedAccessException("Access denied") : File.ReadAllText(path);
        Assert.Null(RaplMeter.TryCreate(tree.Root, Deny, out var reason));
        Assert.Contains("exists but cannot be read", reason);
        Assert.Contains("intel-rapl:0", reason);
        Assert.Contains("udev", reason);
        Assert.Contains("chmod", reason);
        Assert.Contains("group", reason);
    }

    [Fact]
    public void Unreadable_file_on_disk_is_explained_when_not_root()
    {
        if (OperatingSystem.IsWindows()) return;
        using var tree = new FakePowercap();
        var dir = tree.AddDomain("intel-rapl:0", "package-0", 0);
        var energy = Path.Combine(dir, "energy_uj");
        File.SetUnixFileMode(energy, UnixFileMode.None);
        var readable = true;
        try
        {
            File.ReadAllText(energy);
        }
        catch (UnauthorizedAccessException)
        {
            readable = false;
        }
        var meter = RaplMeter.TryCreate(tree.Root, out var reason);
        // Root reads any file; then the counter is readable and used, as it would be on a real machine.
        if (readable) Assert.NotNull(meter);
        else
        {
            Assert.Null(meter);
            Assert.Contains("cannot be read", reason);
        }
    }

    [Fact]
    public void Missing_powercap_says_so()
    {
        Assert.Null(RaplMeter.TryCreate("/nonexistent/powercap", out var reason));
        Assert.Contains("does not exist", reason);
        using var tree = new FakePowercap();
        Assert.Null(RaplMeter.TryCreate(tree.Root, out reason));
        Assert.Contains("no readable package domain", reason);
    }
}
