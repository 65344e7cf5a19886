namespace Sparrow.Energy.Tests;

public class FootprintTests
{
    [Fact]
    public void One_kwh_in_france_with_pue_and_price_by_hand()
    {
        var s = FootprintSettings.Create("FR", pue: 1.2, pricePerKilowattHour: 0.2, currency: "EUR");
        var f = s.Of(3.6e6);
        Assert.Equal(1.0, f.KilowattHours, 12);
        Assert.Equal(1.2, f.FacilityKilowattHours, 12);
        Assert.Equal(1.2 * 56, f.GramsCo2e, 9); // 67.2 g
        Assert.Equal(0.24, f.Cost, 12);
        Assert.Equal("EUR", s.Currency);
    }

    [Fact]
    public void Per_million_at_the_world_default()
    {
        var s = FootprintSettings.Default;
        // 0.5 J each: 500,000 J = 0.138889 kWh; × 481 g = 66.806 g; × 0.15 = 0.020833.
        var f = s.PerMillion(0.5);
        Assert.Equal(500_000, f.Joules, 6);
        Assert.Equal(0.1388888889, f.KilowattHours, 9);
        Assert.Equal(66.8055555556, f.GramsCo2e, 6);
        Assert.Equal(0.0208333333, f.Cost, 9);
        Assert.Equal("world", s.Grid.Code);
    }

    [Fact]
    public void Cloud_regions_take_their_grid_and_name_the_source()
    {
        var paris = GridIntensity.Find("aws:eu-west-3")!;
        Assert.Equal(GridIntensity.Find("FR")!.GramsPerKilowattHour, paris.GramsPerKilowattHour);
        Assert.Contains("Ember", paris.Source);
        Assert.Equal(2023, paris.Year);
        Assert.Equal("DE", GridIntensity.Find("germany")!.Code);
        Assert.All(GridIntensity.Table, g => Assert.False(string.IsNullOrEmpty(g.Source)));
        Assert.Equal(GridIntensity.Table.Count, GridIntensity.Table.Select(g => g.Code).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Bad_settings_name_the_value()
    {
        Assert.Contains("Unknown region 'Atlantis'", Assert.Throws<ArgumentException>(() => FootprintSettings.Create("Atlantis")).Message);
        Assert.Contains("PUE must be 1 or more", Assert.Throws<ArgumentException>(() => FootprintSettings.Create(pue: 0.5)).Message);
        Assert.Contains("price", Assert.Throws<ArgumentException>(() => FootprintSettings.Create(pricePerKilowattHour: -1)).Message);
        Assert.Equal(100, FootprintSettings.Create(gramsPerKilowattHour: 100).Of(3.6e6).GramsCo2e, 9);
    }
}
