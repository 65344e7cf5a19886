using Sparrow.Tensors;

namespace Sparrow.Runtime;

/// <summary>Per-run settings that operators read: how many threads they may use, and how large a tensor they may make.</summary>
internal sealed class RunContext
{
    public RunContext(int threads, long maxTensorBytes = SessionOptions.DefaultMaxTensorBytes)
    {
        Threads = Math.Max(1, threads);
        MaxTensorBytes = maxTensorBytes;
    }

    /// <summary>For code that runs an operator without a session (tests, kernels called directly): one thread, the default limit.</summary>
    public static RunContext Default { get; } = new(1);

    public int Threads { get; }

    /// <summary>The most bytes one output tensor whose size the graph's own values decide may take (<see cref="SessionOptions.MaxTensorBytes"/>).</summary>
    public long MaxTensorBytes { get; }

    /// <summary>
    /// Set while constant folding: an output of more elements than this is not folded (the node is left to run time),
    /// and <see cref="EnsureFits(ReadOnlySpan{long}, DataType)"/> says so before anything is allocated.
    /// </summary>
    public long? FoldLimitElements { get; init; }

    /// <summary>
    /// Refuses, before anything is allocated, an output whose shape comes from the graph's own values (ConstantOfShape,
    /// Expand, Tile, broadcasting) when it would take more than <see cref="MaxTensorBytes"/>; the message gives the shape,
    /// and the session puts the node's name in front of it.
    /// </summary>
    /// <exception cref="TensorLimitException">The tensor would be over the limit.</exception>
    public void EnsureFits(ReadOnlySpan<long> shape, DataType type)
    {
        var elements = 1L;
        var overflow = false;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"the requested shape {Format(shape)} has a negative dimension.");
            if (d == 0) return; // an empty tensor costs nothing, however large the other dimensions
            if (elements > long.MaxValue / d) overflow = true;
            else elements *= d;
        }
        var size = Math.Max(1, DataTypes.SizeOf(type));
        var bytes = overflow || elements > long.MaxValue / size ? long.MaxValue : elements * size;
        if (bytes > MaxTensorBytes)
            throw new TensorLimitException(
                $"the requested output shape {Format(shape)} ({DataTypes.Name(type)}) would take {(overflow ? "more than 2^63" : bytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))} bytes, " +
                $"over the limit of {MaxTensorBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes (SessionOptions.MaxTensorBytes); nothing was allocated.");
        if (elements > FoldLimitElements) throw new FoldDeferredException();
    }

    /// <inheritdoc cref="EnsureFits(ReadOnlySpan{long}, DataType)"/>
    public void EnsureFits(ReadOnlySpan<int> shape, DataType type)
    {
        Span<long> wide = shape.Length <= 16 ? stackalloc long[shape.Length] : new long[shape.Length];
        for (var i = 0; i < shape.Length; i++) wide[i] = shape[i];
        EnsureFits(wide, type);
    }

    private static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";
}

/// <summary>An operator was asked for a tensor larger than <see cref="SessionOptions.MaxTensorBytes"/>; thrown before allocating it.</summary>
internal sealed class TensorLimitException(string message) : InvalidOperationException(message);

/// <summary>Constant folding only: the output is too large to fold, so the node stays to run at run time.</summary>
internal sealed class FoldDeferredException() : Exception("too large to fold");
