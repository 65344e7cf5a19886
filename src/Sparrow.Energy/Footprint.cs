using System.Globalization;

namespace Sparrow.Energy;

/// <summary>
/// Turns joules into carbon and money: facility kWh = kWh × PUE; gCO2e = facility kWh × grid intensity;
/// cost = facility kWh × price per kWh. PUE (power usage effectiveness) is the data centre's total power over its
/// IT power: 1.0 counts the machine alone (the default), about 1.1 is a hyperscale cloud, about 1.6 a typical
/// enterprise data centre (Uptime Institute's survey average).
/// </summary>
/// <param name="Grid">The grid's carbon intensity.</param>
/// <param name="Pue">Power usage effectiveness, at least 1.</param>
/// <param name="PricePerKilowattHour">Electricity price per kWh in <paramref name="Currency"/>.</param>
/// <param name="Currency">The currency label printed with costs (any text: "USD", "EUR", "£").</param>
public sealed record FootprintSettings(GridIntensity Grid, double Pue = 1.0, double PricePerKilowattHour = FootprintSettings.DefaultPricePerKilowattHour, string Currency = FootprintSettings.DefaultCurrency)
{
    /// <summary>The default price: 0.15 per kWh, a round figure near many countries' business tariffs; set your own.</summary>
    public const double DefaultPricePerKilowattHour = 0.15;

    /// <summary>The default currency label.</summary>
    public const string DefaultCurrency = "USD";

    /// <summary>World-average grid, PUE 1, the default price.</summary>
    public static FootprintSettings Default { get; } = new(GridIntensity.World);

    /// <summary>Settings from what a user typed: a region code or name (null: world), a PUE, a price and a currency; bad values throw <see cref="ArgumentException"/> with a message naming them.</summary>
    public static FootprintSettings Create(string? region = null, double? pue = null, double? pricePerKilowattHour = null, string? currency = null, double? gramsPerKilowattHour = null)
    {
        GridIntensity grid;
        if (gramsPerKilowattHour is { } g) grid = GridIntensity.Custom(g);
        else if (string.IsNullOrWhiteSpace(region)) grid = GridIntensity.World;
        else grid = GridIntensity.Find(region) ?? throw new ArgumentException(
            $"Unknown region '{region}'. Known: {string.Join(", ", GridIntensity.Table.Select(t => t.Code))}.", nameof(region));
        var p = pue ?? 1.0;
        if (!(p >= 1) || double.IsInfinity(p)) throw new ArgumentException($"PUE must be 1 or more (total facility power over IT power), got {p.ToString(CultureInfo.InvariantCulture)}.", nameof(pue));
        var price = pricePerKilowattHour ?? DefaultPricePerKilowattHour;
        if (!(price >= 0) || double.IsInfinity(price)) throw new ArgumentException($"The price per kWh must be 0 or more, got {price.ToString(CultureInfo.InvariantCulture)}.", nameof(pricePerKilowattHour));
        return new FootprintSettings(grid, p, price, string.IsNullOrWhiteSpace(currency) ? DefaultCurrency : currency.Trim());
    }

    /// <summary>The carbon and cost of some joules.</summary>
    public Footprint Of(double joules)
    {
        var kwh = joules / EnergyReading.JoulesPerKilowattHour;
        var facility = kwh * Pue;
        return new Footprint(joules, kwh, facility, facility * Grid.GramsPerKilowattHour, facility * PricePerKilowattHour);
    }

    /// <summary>The carbon and cost of a million items at <paramref name="joulesPerItem"/> each.</summary>
    public Footprint PerMillion(double joulesPerItem) => Of(joulesPerItem * 1e6);

    /// <summary>The settings as printed: "world average 481 gCO2e/kWh (Ember 2023), PUE 1, 0.15 USD/kWh".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Grid.Name} ({Grid.Code}) {Grid.GramsPerKilowattHour:0.#} gCO2e/kWh ({Grid.Source}, {Grid.Year}), PUE {Pue:0.##}, {PricePerKilowattHour:0.####} {Currency}/kWh");
}

/// <summary>Energy, carbon and cost of some work.</summary>
/// <param name="Joules">Energy at the machine.</param>
/// <param name="KilowattHours">The same in kWh.</param>
/// <param name="FacilityKilowattHours">kWh × PUE: what the facility drew for it.</param>
/// <param name="GramsCo2e">Grams of CO2-equivalent.</param>
/// <param name="Cost">Cost in the settings' currency.</param>
public sealed record Footprint(double Joules, double KilowattHours, double FacilityKilowattHours, double GramsCo2e, double Cost);
