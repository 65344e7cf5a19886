namespace Sparrow.Energy.Tests;

public class EstimateTests
{
    [Theory]
    [InlineData("AMD EPYC 7763 64-Core Processor", 280, 64)]
    [InlineData("AMD EPYC 9654 96-Core Processor", 360, 96)]
    [InlineData("AMD EPYC", 280, 64)]
    [InlineData("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", 300, 32)]
    [InlineData("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", 145, 18)]
    [InlineData("Intel(R) Xeon(R) Processor @ 2.2GHz", 205, 32)]
    [InlineData("Some Future CPU 9000", 85, 8)]
    public void Cpu_table_gives_tdp_over_cores(string model, double tdp, int cores)
    {
        var m = CpuPowerModel.Resolve(model);
        Assert.Equal(tdp, m.TdpWatts);
        Assert.Equal(cores, m.Cores);
        Assert.Equal(tdp / cores, m.WattsPerCore, 12);
    }

    [Fact]
    public void User_overrides_win()
    {
        Assert.Equal(7.5, CpuPowerModel.Resolve("AMD EPYC", wattsPerCore: 7.5).WattsPerCore);
        Assert.Equal(320.0 / 64, CpuPowerModel.Resolve("AMD EPYC", tdpWatts: 320).WattsPerCore, 12);
        Assert.Equal(100.0 / 10, CpuPowerModel.Resolve("unknown", tdpWatts: 100, cores: 10).WattsPerCore, 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuPowerModel.Resolve("AMD EPYC", wattsPerCore: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuPowerModel.Resolve("AMD EPYC", tdpWatts: -5));
    }

    [Fact]
    public void Model_name_is_read_from_cpuinfo()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n");
            Assert.Equal("AMD EPYC 7B13", CpuPowerModel.CpuModelName(file));
            Assert.Equal("unknown", CpuPowerModel.CpuModelName("/nonexistent/cpuinfo"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Estimate_is_cpu_seconds_times_watts_plus_dram_by_hand()
    {
        var meter = new EstimatedEnergyMeter(CpuPowerModel.Resolve("AMD EPYC"));
        // 2 CPU s × 280/64 W = 8.75 J; 2 GiB × 0.375 W/GiB × 4 s = 3 J.
        var r = meter.Estimate(2.0, 2L << 30, TimeSpan.FromSeconds(4));
        Assert.Equal(8.75, r.CpuJoules, 12);
        Assert.Equal(3.0, r.DramJoules, 12);
        Assert.Equal(11.75, r.Joules, 12);
        Assert.True(r.IsEstimated);
        Assert.Equal(11.75 / 3.6e6 * 1e6, r.KilowattHours * 1e6, 12);
        var names = r.Inputs.Select(i => i.Name).ToArray();
        foreach (var expected in new[] { "CPU model", "TDP", "cores sharing the TDP", "watts per core", "CPU seconds (user+sys)", "DRAM term" })
            Assert.Contains(expected, names);
        Assert.Contains(r.Inputs, i => i.Name == "watts per core" && i.Value == "4.375 W");
    }

    [Fact]
    public void Meter_charges_the_cpu_time_between_start_and_stop()
    {
        var usage = new Queue<ResourceUsage>([new(TimeSpan.FromSeconds(10), 0), new(TimeSpan.FromSeconds(13.5), 0)]);
        var meter = new EstimatedEnergyMeter(CpuPowerModel.Resolve("x", wattsPerCore: 2), dramWattsPerGigabyte: 0, usage: usage.Dequeue, scope: "fake");
        var r = meter.Start().Stop();
        Assert.Equal(3.5, r.CpuSeconds);
        Assert.Equal(7.0, r.Joules, 12);
        Assert.Contains(r.Inputs, i => i.Name == "scope" && i.Value == "fake");
    }

    [Fact]
    public void Busy_work_in_this_process_is_charged_and_nested_readings_add_up()
    {
        var meter = new EstimatedEnergyMeter(CpuPowerModel.Resolve("x", wattsPerCore: 10));
        using var outer = meter.Start();
        using var inner = meter.Start();
        var x = 0.0;
        for (var i = 0; i < 20_000_000; i++) x += Math.Sqrt(i);
        Assert.True(x > 0);
        var a = inner.Stop();
        var b = outer.Stop();
        Assert.True(a.CpuSeconds > 0.001, $"CPU seconds {a.CpuSeconds}");
        Assert.True(b.CpuSeconds >= a.CpuSeconds);
        Assert.Equal(a.CpuSeconds!.Value * 10, a.CpuJoules, 9);
        Assert.True(a.DramJoules > 0);
    }

    [Fact]
    public void Finished_children_are_counted_on_linux()
    {
        if (!OperatingSystem.IsLinux()) return;
        var before = ProcessUsage.FinishedChildren()!.Value;
        using (var p = System.Diagnostics.Process.Start("sh", ["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])) p.WaitForExit();
        var after = ProcessUsage.FinishedChildren()!.Value;
        Assert.True(after.CpuTime > before.CpuTime, $"{before.CpuTime} -> {after.CpuTime}");
    }
}
