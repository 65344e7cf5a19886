using System.Text.Json;
using Sparrow.Graph;

namespace Sparrow.Pruning;

/// <summary>
/// What a pruning run asked for, kept in the pruned model's ONNX metadata (key <see cref="Key"/>, a JSON value), so
/// that <c>sparrow inspect</c> can put each weight's achieved sparsity next to its target. Other runtimes ignore it.
/// </summary>
public sealed record PruningRecord(string Method, string Pattern, IReadOnlyDictionary<string, double?> Targets)
{
    /// <summary>The metadata key the record is stored under.</summary>
    public const string Key = "sparrow.pruning";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The record of a run of <paramref name="method"/> with <paramref name="pattern"/>: each weight's target sparsity.</summary>
    public static PruningRecord Of(string method, string pattern, IEnumerable<LayerSparsity> layers) =>
        new(method, pattern, layers.ToDictionary(l => l.WeightName, l => l.TargetSparsity));

    /// <summary>Stores the record in <paramref name="model"/>'s metadata, replacing an earlier one.</summary>
    public void WriteTo(Model model)
    {
        model.MetadataProps.RemoveAll(kv => kv.Key == Key);
        model.MetadataProps.Add(new(Key, JsonSerializer.Serialize(this, Json)));
    }

    /// <summary>The record in <paramref name="model"/>'s metadata; null when there is none or it cannot be read.</summary>
    public static PruningRecord? ReadFrom(Model model)
    {
        var text = model.MetadataProps.LastOrDefault(kv => kv.Key == Key).Value;
        if (string.IsNullOrEmpty(text)) return null;
        try
        {
            return JsonSerializer.Deserialize<PruningRecord>(text, Json);
        }
        catch (JsonException)
        {
            // Written by something else under our key: not ours to trust.
            return null;
        }
    }
}
