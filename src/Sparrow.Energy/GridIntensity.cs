namespace Sparrow.Energy;

/// <summary>The carbon intensity of a grid: grams of CO2-equivalent emitted per kWh generated.</summary>
/// <param name="Code">What users type: an ISO country code ("FR"), "world", "EU", or a cloud region ("aws:eu-west-3").</param>
/// <param name="Name">A readable name.</param>
/// <param name="GramsPerKilowattHour">gCO2e per kWh.</param>
/// <param name="Source">Where the figure comes from.</param>
/// <param name="Year">The year the figure describes.</param>
public sealed record GridIntensity(string Code, string Name, double GramsPerKilowattHour, string Source, int Year)
{
    private const string Ember = "Ember, yearly electricity data (lifecycle gCO2e/kWh of generation), via Our World in Data";

    /// <summary>The world average, used when no region is given.</summary>
    public static GridIntensity World { get; } = new("world", "World average", 481, Ember, 2023);

    /// <summary>
    /// Countries and blocs (Ember's yearly electricity data, 2023, rounded to whole grams), and the main cloud regions,
    /// each given the average of the grid it sits on (location-based: the providers' market-based figures after
    /// renewable purchases are lower; pass the figure you trust with a region code of your own through <see cref="Custom"/>).
    /// </summary>
    public static IReadOnlyList<GridIntensity> Table { get; } = BuildTable();

    /// <summary>A figure the user gives, e.g. from Electricity Maps for the hour of the run.</summary>
    public static GridIntensity Custom(double gramsPerKilowattHour) =>
        gramsPerKilowattHour >= 0 && double.IsFinite(gramsPerKilowattHour)
            ? new GridIntensity("custom", "user figure", gramsPerKilowattHour, "given by the user", DateTime.UtcNow.Year)
            : throw new ArgumentOutOfRangeException(nameof(gramsPerKilowattHour), gramsPerKilowattHour, "Carbon intensity must be 0 or more g/kWh.");

    /// <summary>The table entry with this code or name (case-insensitive), or null.</summary>
    public static GridIntensity? Find(string region)
    {
        var key = region.Trim();
        return Table.FirstOrDefault(g => string.Equals(g.Code, key, StringComparison.OrdinalIgnoreCase))
            ?? Table.FirstOrDefault(g => string.Equals(g.Name, key, StringComparison.OrdinalIgnoreCase));
    }

    private static List<GridIntensity> BuildTable()
    {
        var countries = new List<GridIntensity>
        {
            World,
            new("EU", "European Union", 244, Ember, 2023),
            new("US", "United States", 369, Ember, 2023),
            new("CA", "Canada", 170, Ember, 2023),
            new("BR", "Brazil", 98, Ember, 2023),
            new("CL", "Chile", 291, Ember, 2023),
            new("GB", "United Kingdom", 238, Ember, 2023),
            new("IE", "Ireland", 291, Ember, 2023),
            new("FR", "France", 56, Ember, 2023),
            new("DE", "Germany", 381, Ember, 2023),
            new("NL", "Netherlands", 268, Ember, 2023),
            new("BE", "Belgium", 138, Ember, 2023),
            new("AT", "Austria", 111, Ember, 2023),
            new("DK", "Denmark", 152, Ember, 2023),
            new("SE", "Sweden", 41, Ember, 2023),
            new("NO", "Norway", 30, Ember, 2023),
            new("FI", "Finland", 79, Ember, 2023),
            new("ES", "Spain", 174, Ember, 2023),
            new("IT", "Italy", 331, Ember, 2023),
            new("PL", "Poland", 662, Ember, 2023),
            new("CZ", "Czechia", 450, Ember, 2023),
            new("CN", "China", 582, Ember, 2023),
            new("IN", "India", 713, Ember, 2023),
            new("JP", "Japan", 485, Ember, 2023),
            new("KR", "South Korea", 432, Ember, 2023),
            new("SG", "Singapore", 470, Ember, 2023),
            new("AU", "Australia", 549, Ember, 2023),
        };
        // Cloud regions on the grid of the country they sit in (provider documentation gives each region's location).
        (string Code, string Name, string Country)[] regions =
        [
            ("aws:us-east-1", "AWS US East (N. Virginia)", "US"),
            ("aws:us-east-2", "AWS US East (Ohio)", "US"),
            ("aws:us-west-2", "AWS US West (Oregon)", "US"),
            ("aws:ca-central-1", "AWS Canada (Central)", "CA"),
            ("aws:eu-west-1", "AWS Europe (Ireland)", "IE"),
            ("aws:eu-west-2", "AWS Europe (London)", "GB"),
            ("aws:eu-west-3", "AWS Europe (Paris)", "FR"),
            ("aws:eu-central-1", "AWS Europe (Frankfurt)", "DE"),
            ("aws:eu-north-1", "AWS Europe (Stockholm)", "SE"),
            ("aws:ap-northeast-1", "AWS Asia Pacific (Tokyo)", "JP"),
            ("aws:ap-southeast-1", "AWS Asia Pacific (Singapore)", "SG"),
            ("aws:ap-southeast-2", "AWS Asia Pacific (Sydney)", "AU"),
            ("aws:ap-south-1", "AWS Asia Pacific (Mumbai)", "IN"),
            ("aws:sa-east-1", "AWS South America (São Paulo)", "BR"),
            ("gcp:us-central1", "Google Cloud Iowa", "US"),
            ("gcp:us-east1", "Google Cloud South Carolina", "US"),
            ("gcp:europe-west1", "Google Cloud Belgium", "BE"),
            ("gcp:europe-west4", "Google Cloud Netherlands", "NL"),
            ("gcp:europe-west3", "Google Cloud Frankfurt", "DE"),
            ("gcp:europe-north1", "Google Cloud Finland", "FI"),
            ("gcp:asia-northeast1", "Google Cloud Tokyo", "JP"),
            ("azure:eastus", "Azure East US (Virginia)", "US"),
            ("azure:westeurope", "Azure West Europe (Netherlands)", "NL"),
            ("azure:northeurope", "Azure North Europe (Ireland)", "IE"),
            ("azure:swedencentral", "Azure Sweden Central", "SE"),
            ("azure:francecentral", "Azure France Central", "FR"),
            ("azure:uksouth", "Azure UK South", "GB"),
        ];
        var all = new List<GridIntensity>(countries);
        foreach (var (code, name, country) in regions)
        {
            var grid = countries.Single(c => c.Code == country);
            all.Add(new GridIntensity(code, name, grid.GramsPerKilowattHour, $"{grid.Name} grid average ({grid.Source})", grid.Year));
        }
        return all;
    }
}
