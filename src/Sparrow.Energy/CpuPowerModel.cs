using System.Globalization;

namespace Sparrow.Energy;

/// <summary>
/// The power assumed for one busy core when no counter exists: the CPU's TDP (thermal design power, the sustained
/// package power it is specified for) divided by its physical cores. A CPU second of one thread is charged one
/// core's share, so a process that keeps one core busy for a second costs TDP / cores joules; idle power and other
/// processes are not charged. When SMT siblings are both busy this counts each as a core, an upper figure.
/// </summary>
/// <param name="CpuModel">The model name it was matched from (e.g. /proc/cpuinfo's "model name").</param>
/// <param name="Matched">The table entry that matched, or what the figure came from ("default", "--watts-per-core").</param>
/// <param name="TdpWatts">Package TDP in watts (null when the user gave watts per core directly).</param>
/// <param name="Cores">Physical cores the TDP is shared by (null when the user gave watts per core directly).</param>
/// <param name="WattsPerCore">Watts charged per CPU second of one thread.</param>
public sealed record CpuPowerModel(string CpuModel, string Matched, double? TdpWatts, int? Cores, double WattsPerCore)
{
    /// <summary>Used when the CPU is not in the table: an 85 W, 8-core desktop part (85 W is a common desktop TDP, also CodeCarbon's documented fallback).</summary>
    public static readonly CpuSpec Unknown = new("unknown CPU (assumed 85 W, 8 cores)", "", 85, 8);

    /// <summary>
    /// Common server and desktop CPUs: TDP and cores from the makers' published specifications (AMD and Intel
    /// product pages, and the cloud providers' instance pages for their custom parts). The first entry whose
    /// pattern appears in the model name wins, so exact models come before families.
    /// </summary>
    public static IReadOnlyList<CpuSpec> Table { get; } =
    [
        // AMD EPYC, exact models (Genoa 9004, Milan 7003, Rome 7002, Naples 7001).
        new("AMD EPYC 9654", "EPYC 9654", 360, 96),
        new("AMD EPYC 9554", "EPYC 9554", 360, 64),
        new("AMD EPYC 9454", "EPYC 9454", 290, 48),
        new("AMD EPYC 9354", "EPYC 9354", 280, 32),
        new("AMD EPYC 9124", "EPYC 9124", 200, 16),
        new("AMD EPYC 7763", "EPYC 7763", 280, 64),
        new("AMD EPYC 7713", "EPYC 7713", 225, 64),
        new("AMD EPYC 7543", "EPYC 7543", 225, 32),
        new("AMD EPYC 7443", "EPYC 7443", 200, 24),
        new("AMD EPYC 7313", "EPYC 7313", 155, 16),
        new("AMD EPYC 7742", "EPYC 7742", 225, 64),
        new("AMD EPYC 7702", "EPYC 7702", 200, 64),
        new("AMD EPYC 7502", "EPYC 7502", 180, 32),
        new("AMD EPYC 7402", "EPYC 7402", 180, 24),
        new("AMD EPYC 7302", "EPYC 7302", 155, 16),
        new("AMD EPYC 7601", "EPYC 7601", 180, 32),
        // Intel Xeon Scalable, exact models (Sapphire Rapids, Ice Lake, Cascade Lake, Skylake) and older E5s.
        new("Intel Xeon Platinum 8480+", "Platinum 8480", 350, 56),
        new("Intel Xeon Platinum 8380", "Platinum 8380", 270, 40),
        new("Intel Xeon Platinum 8375C", "Platinum 8375C", 300, 32),
        new("Intel Xeon Platinum 8358", "Platinum 8358", 250, 32),
        new("Intel Xeon Platinum 8280", "Platinum 8280", 205, 28),
        new("Intel Xeon Platinum 8259CL", "Platinum 8259CL", 210, 24),
        new("Intel Xeon Platinum 8175M", "Platinum 8175M", 240, 24),
        new("Intel Xeon Gold 6338", "Gold 6338", 205, 32),
        new("Intel Xeon Gold 6248", "Gold 6248", 150, 20),
        new("Intel Xeon Gold 6230", "Gold 6230", 125, 20),
        new("Intel Xeon E5-2686 v4", "E5-2686 v4", 145, 18),
        new("Intel Xeon E5-2673 v4", "E5-2673 v4", 135, 20),
        // Families, when the exact model is hidden (virtual machines often say only "AMD EPYC").
        new("AMD EPYC (model not given; EPYC 7763-class assumed: 280 W, 64 cores)", "EPYC", 280, 64),
        new("Intel Xeon (model not given; Xeon Gold 6338-class assumed: 205 W, 32 cores)", "Xeon", 205, 32),
        new("AMD Ryzen (8-core desktop assumed: 105 W)", "Ryzen", 105, 8),
        new("Intel Core (8-core desktop assumed: 125 W)", "Core(TM)", 125, 8),
        new("Apple M1 (about 20 W, 8 cores)", "Apple M1", 20, 8),
        new("Apple M2 (about 20 W, 8 cores)", "Apple M2", 20, 8),
    ];

    /// <summary>
    /// The power model for a CPU: the user's watts per core if given, else the user's TDP over the table's (or
    /// default) cores, else the table entry that matches <paramref name="cpuModel"/>, else <see cref="Unknown"/>.
    /// </summary>
    /// <param name="cpuModel">The CPU's model name, e.g. from <see cref="CpuModelName()"/>.</param>
    /// <param name="wattsPerCore">A user override in watts per busy core.</param>
    /// <param name="tdpWatts">A user override of the package TDP in watts (cores from the table).</param>
    /// <param name="cores">A user override of the physical cores that share the TDP.</param>
    public static CpuPowerModel Resolve(string cpuModel, double? wattsPerCore = null, double? tdpWatts = null, int? cores = null)
    {
        if (wattsPerCore is { } w)
        {
            if (!(w > 0) || double.IsInfinity(w)) throw new ArgumentOutOfRangeException(nameof(wattsPerCore), w, "Watts per core must be above 0.");
            return new CpuPowerModel(cpuModel, "user (watts per core)", null, null, w);
        }
        if (tdpWatts is { } tdp && !(tdp > 0 && !double.IsInfinity(tdp))) throw new ArgumentOutOfRangeException(nameof(tdpWatts), tdp, "TDP must be above 0 W.");
        if (cores is { } c && c < 1) throw new ArgumentOutOfRangeException(nameof(cores), c, "Cores must be at least 1.");
        var spec = Match(cpuModel);
        var matched = spec.Name;
        if (tdpWatts is not null || cores is not null) matched = $"user ({(tdpWatts is not null ? "TDP" : "")}{(tdpWatts is not null && cores is not null ? ", " : "")}{(cores is not null ? "cores" : "")}); else {spec.Name}";
        var t = tdpWatts ?? spec.TdpWatts;
        var n = cores ?? spec.Cores;
        return new CpuPowerModel(cpuModel, matched, t, n, t / n);
    }

    /// <summary>The first table entry whose pattern the model name contains (case-insensitive), or <see cref="Unknown"/>.</summary>
    public static CpuSpec Match(string cpuModel) =>
        Table.FirstOrDefault(s => cpuModel.Contains(s.Pattern, StringComparison.OrdinalIgnoreCase)) ?? Unknown;

    /// <summary>This machine's CPU model name from /proc/cpuinfo ("model name", or "Hardware"/"Model" on ARM), else "unknown".</summary>
    public static string CpuModelName() => CpuModelName("/proc/cpuinfo");

    /// <summary>The CPU model name in a cpuinfo file; "unknown" when it has none or cannot be read.</summary>
    public static string CpuModelName(string cpuinfoPath)
    {
        try
        {
            foreach (var line in File.ReadLines(cpuinfoPath))
            {
                var colon = line.IndexOf(':');
                if (colon < 0) continue;
                var key = line[..colon].Trim();
                if (key is "model name" or "Hardware" or "Model")
                {
                    var value = line[(colon + 1)..].Trim();
                    if (value.Length > 0) return value;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return "unknown";
    }

    /// <summary>The inputs to print with an estimate.</summary>
    public IEnumerable<EnergyInput> Describe()
    {
        yield return new EnergyInput("CPU model", CpuModel);
        yield return new EnergyInput("power figure from", Matched);
        if (TdpWatts is { } t) yield return new EnergyInput("TDP", t.ToString("0.#", CultureInfo.InvariantCulture) + " W");
        if (Cores is { } c) yield return new EnergyInput("cores sharing the TDP", c.ToString(CultureInfo.InvariantCulture));
        yield return new EnergyInput("watts per core", WattsPerCore.ToString("0.###", CultureInfo.InvariantCulture) + " W");
    }
}

/// <summary>One row of the CPU table.</summary>
/// <param name="Name">What is printed as the source of the figure.</param>
/// <param name="Pattern">Text the CPU model name must contain (case-insensitive).</param>
/// <param name="TdpWatts">Package TDP in watts.</param>
/// <param name="Cores">Physical cores per package.</param>
public sealed record CpuSpec(string Name, string Pattern, double TdpWatts, int Cores);
