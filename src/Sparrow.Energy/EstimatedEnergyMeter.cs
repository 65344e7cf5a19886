using System.Diagnostics;
using System.Globalization;

namespace Sparrow.Energy;

/// <summary>
/// An estimate for machines without an energy counter (virtual machines, containers, most laptops without root):
/// joules = CPU seconds (user + system) × watts per core (<see cref="CpuPowerModel"/>) + resident GiB × watts per
/// GiB × wall seconds (DRAM). Every reading is labelled <see cref="EnergyMethod.Estimate"/> and lists these inputs.
/// It charges only the work watched (this process, or a child), not the machine's idle power.
/// </summary>
public sealed class EstimatedEnergyMeter : IEnergyMeter
{
    /// <summary>
    /// DRAM power per GiB resident: 3 W per 8 GB, i.e. 0.375 W/GB, the figure CodeCarbon's methodology documents
    /// (after Micron's and Crucial's guidance on DDR power); real figures range roughly 0.2-0.5 W/GB by generation and load.
    /// </summary>
    public const double DefaultDramWattsPerGigabyte = 0.375;

    private readonly Func<ResourceUsage> _usage;

    /// <summary>Creates the estimate.</summary>
    /// <param name="cpu">Watts charged per CPU second.</param>
    /// <param name="dramWattsPerGigabyte">Watts per GiB of resident memory (0 leaves DRAM out).</param>
    /// <param name="usage">Where CPU time and resident memory come from; default <see cref="ProcessUsage.CurrentProcess"/>.</param>
    /// <param name="scope">What <paramref name="usage"/> watches, as printed (e.g. "this process").</param>
    public EstimatedEnergyMeter(CpuPowerModel cpu, double dramWattsPerGigabyte = DefaultDramWattsPerGigabyte, Func<ResourceUsage>? usage = null, string scope = "this process")
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (!(dramWattsPerGigabyte >= 0) || double.IsInfinity(dramWattsPerGigabyte))
            throw new ArgumentOutOfRangeException(nameof(dramWattsPerGigabyte), dramWattsPerGigabyte, "DRAM watts per GiB must be 0 or more.");
        Cpu = cpu;
        DramWattsPerGigabyte = dramWattsPerGigabyte;
        _usage = usage ?? ProcessUsage.CurrentProcess;
        Scope = scope;
    }

    /// <summary>The per-core power model.</summary>
    public CpuPowerModel Cpu { get; }

    /// <summary>Watts per GiB of resident memory.</summary>
    public double DramWattsPerGigabyte { get; }

    /// <summary>What is watched, as printed.</summary>
    public string Scope { get; }

    /// <inheritdoc />
    public EnergyMethod Method => EnergyMethod.Estimate;

    /// <inheritdoc />
    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"estimated: CPU time of {Scope} × {Cpu.WattsPerCore:0.###} W per core ({Cpu.Matched}) + resident memory × {DramWattsPerGigabyte:0.###} W/GiB");

    /// <inheritdoc />
    public EnergyMeasurement Start() => new Measurement(this, _usage());

    /// <summary>The estimate for the given CPU time, resident memory and wall time, with its inputs; what <see cref="Start"/>'s readings compute.</summary>
    public EnergyReading Estimate(double cpuSeconds, long residentBytes, TimeSpan elapsed)
    {
        var cpuJoules = cpuSeconds * Cpu.WattsPerCore;
        var gigabytes = residentBytes / (double)(1L << 30);
        var dramJoules = gigabytes * DramWattsPerGigabyte * elapsed.TotalSeconds;
        var inputs = new List<EnergyInput> { new("scope", Scope) };
        inputs.AddRange(Cpu.Describe());
        inputs.Add(new EnergyInput("CPU seconds (user+sys)", cpuSeconds.ToString("0.######", CultureInfo.InvariantCulture) + " s"));
        inputs.Add(new EnergyInput("CPU term", cpuJoules.ToString("0.######", CultureInfo.InvariantCulture) + " J"));
        inputs.Add(new EnergyInput("resident memory", gigabytes.ToString("0.###", CultureInfo.InvariantCulture) + " GiB"));
        inputs.Add(new EnergyInput("DRAM watts per GiB", DramWattsPerGigabyte.ToString("0.###", CultureInfo.InvariantCulture) + " W"));
        inputs.Add(new EnergyInput("DRAM term", dramJoules.ToString("0.######", CultureInfo.InvariantCulture) + " J"));
        return new EnergyReading(cpuJoules + dramJoules, elapsed, EnergyMethod.Estimate, cpuSeconds, cpuJoules, dramJoules, inputs);
    }

    private sealed class Measurement(EstimatedEnergyMeter meter, ResourceUsage start) : EnergyMeasurement
    {
        private readonly long _startTimestamp = Stopwatch.GetTimestamp();

        protected override EnergyReading StopCore()
        {
            var end = meter._usage();
            var elapsed = Stopwatch.GetElapsedTime(_startTimestamp);
            var cpu = Math.Max(0, (end.CpuTime - start.CpuTime).TotalSeconds);
            return meter.Estimate(cpu, Math.Max(start.ResidentBytes, end.ResidentBytes), elapsed);
        }
    }
}
