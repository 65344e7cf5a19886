using System.Text.Json;
using Sparrow.Graph;

namespace Sparrow.Pruning.Structured;

/// <summary>
/// What structured pruning removed, kept in the pruned model's ONNX metadata (key <see cref="Key"/>, JSON) next to
/// <see cref="PruningRecord"/>; other runtimes ignore it. Layers are numbered as in the original model.
/// </summary>
public sealed record StructuredPruningRecord(string Criterion, double HeadFraction, double NeuronFraction, IReadOnlyList<int> RemovedLayers,
    IReadOnlyDictionary<string, IReadOnlyList<int>> RemovedHeads, IReadOnlyDictionary<string, int> NeuronsKept)
{
    /// <summary>The metadata key the record is stored under.</summary>
    public const string Key = "sparrow.structured";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The record of a structured run with <paramref name="settings"/> that produced <paramref name="report"/>.</summary>
    public static StructuredPruningRecord Of(StructuredPruneSettings settings, StructuredPruneReport report) =>
        new(settings.Criterion.ToString().ToLowerInvariant(), settings.HeadFraction, settings.NeuronFraction, report.Plan.Layers,
            report.Layers.Where(l => !l.Removed).ToDictionary(l => l.Layer.ToString(System.Globalization.CultureInfo.InvariantCulture), l => l.RemovedHeads),
            report.Layers.Where(l => !l.Removed).ToDictionary(l => l.Layer.ToString(System.Globalization.CultureInfo.InvariantCulture), l => l.NeuronsAfter));

    /// <summary>Stores the record in <paramref name="model"/>'s metadata, replacing an earlier one.</summary>
    public void WriteTo(Model model)
    {
        model.MetadataProps.RemoveAll(kv => kv.Key == Key);
        model.MetadataProps.Add(new(Key, JsonSerializer.Serialize(this, Json)));
    }

    /// <summary>The record in the model's metadata; null when there is none or it cannot be read.</summary>
    public static StructuredPruningRecord? ReadFrom(Model model)
    {
        var text = model.MetadataProps.LastOrDefault(kv => kv.Key == Key).Value;
        if (string.IsNullOrEmpty(text)) return null;
        try
        {
            return JsonSerializer.Deserialize<StructuredPruningRecord>(text, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
