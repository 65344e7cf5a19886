using System.CommandLine;
using System.Globalization;
using Sparrow.Energy;

namespace Sparrow.Cli.Execution;

/// <summary>What the user chose for energy, carbon and cost; shared by <c>sparrow energy</c> and <c>sparrow bench</c>.</summary>
internal sealed record EnergySettings(
    string? Region = null, double? Pue = null, double? Price = null, string? Currency = null,
    double? WattsPerCore = null, double? Tdp = null, string Method = "auto", double? GramsPerKwh = null)
{
    /// <summary>The carbon and cost settings; a bad value becomes a usage error naming the option.</summary>
    public FootprintSettings Footprint()
    {
        try
        {
            return FootprintSettings.Create(Region, Pue, Price, Currency, GramsPerKwh);
        }
        catch (ArgumentException e)
        {
            var option = e.ParamName switch { "pue" => "--pue", "pricePerKilowattHour" => "--price", "gramsPerKilowattHour" => "--grams-per-kwh", _ => "--region" };
            throw new UsageException($"{option}: {e.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    /// <summary>The meter to use: RAPL, perf or the estimate (per <see cref="Method"/>), and why better ones were skipped.</summary>
    /// <param name="usage">What the estimate watches (default: this process).</param>
    /// <param name="scope">How that is printed.</param>
    public EnergyMeterChoice ChooseMeter(Func<ResourceUsage>? usage = null, string scope = "this process")
    {
        if (WattsPerCore is { } w && !(w > 0)) throw new UsageException($"--watts-per-core must be above 0, got {w.ToString(CultureInfo.InvariantCulture)}.");
        if (Tdp is { } t && !(t > 0)) throw new UsageException($"--tdp must be above 0 W, got {t.ToString(CultureInfo.InvariantCulture)}.");
        EnergyMethod? method = Method.Trim().ToLowerInvariant() switch
        {
            "auto" or "" => null,
            "rapl" => EnergyMethod.Rapl,
            "perf" => EnergyMethod.Perf,
            "estimate" or "estimated" => EnergyMethod.Estimate,
            _ => throw new UsageException($"--energy-method '{Method}' is not a method; use auto, rapl, perf or estimate."),
        };
        var options = new EnergyMeterOptions { Method = method, WattsPerCore = WattsPerCore, TdpWatts = Tdp, Usage = usage, Scope = scope };
        try
        {
            return EnergyMeters.Choose(options);
        }
        catch (EnergyMeterException e)
        {
            throw new UsageException($"--energy-method {Method}: {e.Message}");
        }
    }
}

/// <summary>The options behind <see cref="EnergySettings"/>, made once per command.</summary>
internal sealed class EnergyOptions
{
    public Option<string?> Region { get; } = new("--region")
    {
        Description = "Grid for carbon: a country code (FR, US, DE, ...), EU, world, or a cloud region (aws:eu-west-3, gcp:europe-west1, azure:westeurope); default: world average (Ember 2023). See README for the table.",
    };

    public Option<double?> GramsPerKwh { get; } = new("--grams-per-kwh") { Description = "Carbon intensity of your grid in gCO2e/kWh, instead of --region's table figure." };

    public Option<double?> Pue { get; } = new("--pue") { Description = "Power usage effectiveness of the data centre (1 = the machine alone, the default; about 1.1 for large clouds)." };

    public Option<double?> Price { get; } = new("--price") { Description = "Electricity price per kWh (default 0.15)." };

    public Option<string?> Currency { get; } = new("--currency") { Description = "Currency label for --price (default USD)." };

    public Option<double?> WattsPerCore { get; } = new("--watts-per-core") { Description = "For the estimate: watts per busy core, instead of the CPU table's TDP / cores." };

    public Option<double?> Tdp { get; } = new("--tdp") { Description = "For the estimate: the CPU package's TDP in watts (shared by the table's core count)." };

    public Option<string> Method { get; } = new("--energy-method")
    {
        Description = "auto (RAPL if readable, else perf's power/energy-pkg/, else the estimate), rapl, perf or estimate.",
        DefaultValueFactory = _ => "auto",
    };

    public IEnumerable<Option> All => [Region, GramsPerKwh, Pue, Price, Currency, WattsPerCore, Tdp, Method];

    public void AddTo(Command command)
    {
        foreach (var o in All) command.Add(o);
    }

    public EnergySettings Read(ParseResult parse) => new(
        parse.GetValue(Region), parse.GetValue(Pue), parse.GetValue(Price), parse.GetValue(Currency),
        parse.GetValue(WattsPerCore), parse.GetValue(Tdp), parse.GetValue(Method) ?? "auto", parse.GetValue(GramsPerKwh));
}

/// <summary>How energy figures are printed.</summary>
internal static class EnergyFormat
{
    /// <summary>Joules with a unit that keeps 3-4 significant digits: "1.23 J", "45.6 mJ", "789 µJ".</summary>
    public static string Joules(double j) => j switch
    {
        _ when !double.IsFinite(j) => "-",
        >= 1 => Significant(j) + " J",
        >= 1e-3 => Significant(j * 1e3) + " mJ",
        0 => "0 J",
        _ => Significant(j * 1e6) + " µJ",
    };

    /// <summary>3 significant digits in plain notation (scientific below 0.001).</summary>
    public static string Significant(double v)
    {
        if (!double.IsFinite(v)) return "-";
        if (v == 0) return "0";
        var a = Math.Abs(v);
        if (a < 1e-3) return v.ToString("0.00e+0", CultureInfo.InvariantCulture);
        var digits = Math.Max(0, 2 - (int)Math.Floor(Math.Log10(a)));
        return v.ToString("F" + digits, CultureInfo.InvariantCulture);
    }

    public static string Grams(double g) => Significant(g) + " gCO2e";

    public static string Money(double amount, string currency) => Significant(amount) + " " + currency;

    /// <summary>"estimated" or "measured", the word every figure carries.</summary>
    public static string Kind(EnergyMethod method) => method == EnergyMethod.Estimate ? "estimated" : "measured";

    /// <summary>The short method name used in tables, CSV and JSON.</summary>
    public static string MethodName(EnergyMethod method) => method switch
    {
        EnergyMethod.Rapl => "rapl",
        EnergyMethod.Perf => "perf",
        _ => "estimate",
    };
}
