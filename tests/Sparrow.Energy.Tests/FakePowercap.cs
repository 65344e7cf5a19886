namespace Sparrow.Energy.Tests;

/// <summary>A powercap tree made of plain folders and files, as Linux lays it out.</summary>
internal sealed class FakePowercap : IDisposable
{
    public FakePowercap()
    {
        Root = Path.Combine(Path.GetTempPath(), "sparrow-powercap-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Adds a domain folder, e.g. "intel-rapl:0" named "package-0".</summary>
    public string AddDomain(string id, string name, long energyMicrojoules, long maxRange = 262143328850)
    {
        var dir = Path.Combine(Root, id);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "name"), name + "\n");
        File.WriteAllText(Path.Combine(dir, "energy_uj"), energyMicrojoules + "\n");
        File.WriteAllText(Path.Combine(dir, "max_energy_range_uj"), maxRange + "\n");
        return dir;
    }

    public void SetEnergy(string id, long microjoules) => File.WriteAllText(Path.Combine(Root, id, "energy_uj"), microjoules + "\n");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
