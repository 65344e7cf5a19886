namespace Sparrow.Energy;

/// <summary>How a figure of energy was obtained.</summary>
public enum EnergyMethod
{
    /// <summary>Measured: the CPU packages' RAPL counters read through Linux powercap (<c>/sys/class/powercap</c>).</summary>
    Rapl,

    /// <summary>Measured: the RAPL package counter read through perf's <c>power/energy-pkg/</c> event.</summary>
    Perf,

    /// <summary>Estimated from CPU time and resident memory with assumed power figures; no counter was read.</summary>
    Estimate,
}

/// <summary>One named input of a measurement or estimate (e.g. "watts per core" = "4.38"), printed with its figure.</summary>
/// <param name="Name">What the value is.</param>
/// <param name="Value">The value as printed, with its unit where it has one.</param>
public sealed record EnergyInput(string Name, string Value);

/// <summary>
/// The energy used between <see cref="IEnergyMeter.Start"/> and <see cref="EnergyMeasurement.Stop"/>, with how it was
/// obtained: the method, whether it is an estimate, and the inputs that produced it.
/// </summary>
/// <param name="Joules">Energy in joules (for RAPL and perf: every CPU package of the machine, whoever used it).</param>
/// <param name="Elapsed">Wall time between start and stop.</param>
/// <param name="Method">How the figure was obtained.</param>
/// <param name="CpuSeconds">CPU time (user + system) of what the meter watched, when it knows it (the estimate always does).</param>
/// <param name="CpuJoules">The CPU's share of <paramref name="Joules"/> (for RAPL and perf: all of it).</param>
/// <param name="DramJoules">The memory's share of <paramref name="Joules"/> (the estimate's DRAM term; 0 for package counters, which exclude DRAM).</param>
/// <param name="Inputs">What the figure was computed from, in the order it is best printed.</param>
public sealed record EnergyReading(
    double Joules, TimeSpan Elapsed, EnergyMethod Method, double? CpuSeconds, double CpuJoules, double DramJoules,
    IReadOnlyList<EnergyInput> Inputs)
{
    /// <summary>Joules per kilowatt-hour.</summary>
    public const double JoulesPerKilowattHour = 3.6e6;

    /// <summary>True when no counter was read: the figure is an estimate from CPU time and assumed power.</summary>
    public bool IsEstimated => Method == EnergyMethod.Estimate;

    /// <summary>The energy in kilowatt-hours.</summary>
    public double KilowattHours => Joules / JoulesPerKilowattHour;

    /// <summary>Mean power over the interval in watts (0 for an empty interval).</summary>
    public double AverageWatts => Elapsed > TimeSpan.Zero ? Joules / Elapsed.TotalSeconds : 0;

    /// <summary>"RAPL (measured)", "perf energy-pkg (measured)" or "estimated (CPU time × TDP per core + DRAM)".</summary>
    public string MethodLabel => Describe(Method);

    /// <summary>How a method is named when printed next to its figures.</summary>
    public static string Describe(EnergyMethod method) => method switch
    {
        EnergyMethod.Rapl => "RAPL package counters (measured)",
        EnergyMethod.Perf => "perf power/energy-pkg/ (measured)",
        _ => "estimated (CPU time × TDP per core + DRAM)",
    };
}
