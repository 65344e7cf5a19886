namespace Sparrow.Graph;

/// <summary>One dimension of a declared shape: a fixed size, a named symbol (e.g. "batch"), or unknown.</summary>
public readonly record struct Dimension(long? Value, string? Symbol)
{
    public static Dimension Fixed(long value) => new(value, null);

    public static Dimension Named(string symbol) => new(null, symbol);

    public static readonly Dimension Unknown = new(null, null);

    public bool IsFixed => Value.HasValue;

    public override string ToString() => Value?.ToString() ?? Symbol ?? "?";
}
