using System.Text.Json.Serialization;

namespace Sparrow.Runtime.Sparsity;

/// <summary>One cached choice: the kernel's name and the times that decided it.</summary>
internal sealed class CachedChoice
{
    [JsonPropertyName("kernel")]
    public string Kernel { get; set; } = "";

    [JsonPropertyName("measured")]
    public DateTime Measured { get; set; }

    /// <summary>Milliseconds per call at one row and at the batch, by candidate.</summary>
    [JsonPropertyName("ms")]
    public Dictionary<string, double[]>? Milliseconds { get; set; }
}
