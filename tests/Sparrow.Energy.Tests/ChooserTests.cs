namespace Sparrow.Energy.Tests;

public class ChooserTests
{
    private static EnergyMeterOptions Options(string powercap) => new()
    {
        PowercapRoot = powercap,
        PerfEventSource = "/nonexistent/event_source/power",
        CpuModel = "AMD EPYC 7763 64-Core Processor",
    };

    [Fact]
    public void Rapl_is_used_when_a_powercap_tree_is_present()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 0);
        var choice = EnergyMeters.Choose(Options(tree.Root));
        Assert.IsType<RaplMeter>(choice.Meter);
        Assert.Empty(choice.Skipped);
    }

    [Fact]
    public void Without_counters_the_estimate_is_chosen_and_each_skip_is_explained()
    {
        var choice = EnergyMeters.Choose(Options("/nonexistent/powercap"));
        var meter = Assert.IsType<EstimatedEnergyMeter>(choice.Meter);
        Assert.Equal(EnergyMethod.Estimate, meter.Method);
        Assert.Equal(2, choice.Skipped.Count);
        Assert.Contains("RAPL", choice.Skipped[0]);
        Assert.Contains("perf", choice.Skipped[1]);
        Assert.Equal(280.0 / 64, meter.Cpu.WattsPerCore, 12);
    }

    [Fact]
    public void Unreadable_rapl_falls_back_to_the_estimate_with_the_reason()
    {
        using var tree = new FakePowercap();
        tree.AddDomain("intel-rapl:0", "package-0", 0);
        // EACCES as the kernel gives non-root users since 5.10 (a mode-000 file would not stop root, who runs CI here).
        string Deny(string path) => path.EndsWith("energy_uj", StringComparison.Ordinal) ? throw new UnauthorizedAccessException("Access denied") : File.ReadAllText(path);
        var choice = EnergyMeters.Choose(Options(tree.Root) with { ReadText = Deny });
        Assert.IsType<EstimatedEnergyMeter>(choice.Meter);
        Assert.Contains("cannot be read", choice.Skipped[0]);
    }

    [Fact]
    public void A_forced_method_that_is_missing_throws_with_the_reason()
    {
        var e = Assert.Throws<EnergyMeterException>(() => EnergyMeters.Choose(Options("/nonexistent/powercap") with { Method = EnergyMethod.Rapl }));
        Assert.Contains("does not exist", e.Message);
        Assert.IsType<EstimatedEnergyMeter>(EnergyMeters.Choose(Options("/nonexistent/powercap") with { Method = EnergyMethod.Estimate }).Meter);
    }
}
