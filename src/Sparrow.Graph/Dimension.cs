namespace Sparrow.Graph;

/// <summary>One dimension of a declared shape: a fixed size, a named symbol (e.g. "batch"), or unknown.</summary>
public readonly record struct Dimension(long? Value, string? Symbol)
{
    /// <summary>A dimension of a known size.</summary>
    public static Dimension Fixed(long value) => new(value, null);

    /// <summary>A symbolic dimension such as "batch", fixed only when the model runs.</summary>
    public static Dimension Named(string symbol) => new(null, symbol);

    /// <summary>A dimension of which nothing is known.</summary>
    public static readonly Dimension Unknown = new(null, null);

    /// <summary>Whether the size is known (<see cref="Value"/> is set).</summary>
    public bool IsFixed => Value.HasValue;

    /// <summary>The size, else the symbol, else "?".</summary>
    public override string ToString() => Value?.ToString() ?? Symbol ?? "?";
}
