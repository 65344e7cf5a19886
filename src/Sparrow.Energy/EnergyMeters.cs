namespace Sparrow.Energy;

/// <summary>Where the meters look and what the estimate assumes; every member has the default for this machine.</summary>
public sealed record EnergyMeterOptions
{
    /// <summary>The powercap folder (tests give a fake tree).</summary>
    public string PowercapRoot { get; init; } = RaplMeter.DefaultRoot;

    /// <summary>The perf power event source folder.</summary>
    public string PerfEventSource { get; init; } = PerfMeter.DefaultEventSource;

    /// <summary>The perf executable, a path or a name on PATH.</summary>
    public string PerfPath { get; init; } = "perf";

    /// <summary>Use only this method (failing when it is unavailable); null picks the best available.</summary>
    public EnergyMethod? Method { get; init; }

    /// <summary>The CPU model name for the estimate; null reads /proc/cpuinfo.</summary>
    public string? CpuModel { get; init; }

    /// <summary>The estimate's watts per busy core, overriding the table.</summary>
    public double? WattsPerCore { get; init; }

    /// <summary>The estimate's package TDP in watts, overriding the table.</summary>
    public double? TdpWatts { get; init; }

    /// <summary>The estimate's DRAM watts per GiB resident.</summary>
    public double DramWattsPerGigabyte { get; init; } = EstimatedEnergyMeter.DefaultDramWattsPerGigabyte;

    /// <summary>What the estimate watches; null is this process.</summary>
    public Func<ResourceUsage>? Usage { get; init; }

    /// <summary>What <see cref="Usage"/> watches, as printed.</summary>
    public string Scope { get; init; } = "this process";

    /// <summary>Reads sysfs files; tests make it fail as the kernel does for non-root users.</summary>
    internal Func<string, string> ReadText { get; init; } = File.ReadAllText;
}

/// <summary>The meter chosen and why each better one was passed over.</summary>
/// <param name="Meter">The meter to use.</param>
/// <param name="Skipped">One line per method not used, saying why (e.g. RAPL unreadable and how to allow it).</param>
public sealed record EnergyMeterChoice(IEnergyMeter Meter, IReadOnlyList<string> Skipped);

/// <summary>Picks the best meter this machine offers: RAPL if readable, else perf's energy event, else the estimate.</summary>
public static class EnergyMeters
{
    /// <summary>Chooses a meter, recording why each earlier method was skipped.</summary>
    /// <exception cref="EnergyMeterException">A method was forced with <see cref="EnergyMeterOptions.Method"/> and is unavailable.</exception>
    public static EnergyMeterChoice Choose(EnergyMeterOptions? options = null)
    {
        options ??= new EnergyMeterOptions();
        var skipped = new List<string>();
        if (options.Method is null or EnergyMethod.Rapl)
        {
            var rapl = RaplMeter.TryCreate(options.PowercapRoot, options.ReadText, out var reason);
            if (rapl is not null) return new EnergyMeterChoice(rapl, skipped);
            if (options.Method is EnergyMethod.Rapl) throw new EnergyMeterException(reason);
            skipped.Add(reason);
        }
        if (options.Method is null or EnergyMethod.Perf)
        {
            var perf = PerfMeter.TryCreate(options.PerfEventSource, options.PerfPath, out var reason);
            if (perf is not null) return new EnergyMeterChoice(perf, skipped);
            if (options.Method is EnergyMethod.Perf) throw new EnergyMeterException(reason);
            skipped.Add(reason);
        }
        return new EnergyMeterChoice(CreateEstimate(options), skipped);
    }

    /// <summary>The estimate with the options' CPU model (or this machine's), overrides and usage source.</summary>
    public static EstimatedEnergyMeter CreateEstimate(EnergyMeterOptions? options = null)
    {
        options ??= new EnergyMeterOptions();
        var cpu = CpuPowerModel.Resolve(options.CpuModel ?? CpuPowerModel.CpuModelName(), options.WattsPerCore, options.TdpWatts);
        return new EstimatedEnergyMeter(cpu, options.DramWattsPerGigabyte, options.Usage, options.Scope);
    }
}
