using Sparrow.Data.Models;

namespace Sparrow.Pruning.Structured;

/// <summary>How heads, neurons and layers are ranked.</summary>
public enum StructuredCriterion
{
    /// <summary>Measured on calibration sentences (<see cref="StructuredImportance"/>).</summary>
    Importance,

    /// <summary>Seeded random scores: the baseline an importance measure must beat.</summary>
    Random,
}

/// <summary>What <see cref="StructuredPruner"/> removes.</summary>
public sealed record StructuredPruneSettings
{
    /// <summary>Fraction of each layer's attention heads to remove (rounded down per layer), at least 0 and below 1.</summary>
    public double HeadFraction { get; init; }

    /// <summary>Fraction of each layer's feed-forward neurons (intermediate channels) to remove (rounded down), at least 0 and below 1.</summary>
    public double NeuronFraction { get; init; }

    /// <summary>Number of whole layers to remove, the least important ones; fewer than the model has.</summary>
    public int LayersToRemove { get; init; }

    /// <summary>How heads, neurons and layers are ranked: measured importance or seeded random.</summary>
    public StructuredCriterion Criterion { get; init; } = StructuredCriterion.Importance;

    /// <summary>Seeds the random criterion and breaks ties between equal scores.</summary>
    public int Seed { get; init; }

    /// <summary>Calibration sentences; null: the built-in sample (<see cref="Calibration.CalibrationSentences.Sample"/>).</summary>
    public IReadOnlyList<string>? CalibrationSentences { get; init; }

    /// <summary>Sentences per calibration batch.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Calibration sentences are cut to this many tokens.</summary>
    public int MaxSequenceLength { get; init; } = DefaultModel.MaxSequenceLength;

    /// <summary>Threads per operator while measuring; 0: one per core.</summary>
    public int IntraOpThreads { get; init; }

    internal void Check()
    {
        CheckFraction(HeadFraction, nameof(HeadFraction));
        CheckFraction(NeuronFraction, nameof(NeuronFraction));
        if (LayersToRemove < 0)
            throw new PruningRequestException($"LayersToRemove must be 0 or more, got {LayersToRemove}.");
        if (BatchSize < 1) throw new PruningRequestException($"BatchSize must be at least 1, got {BatchSize}.");
        if (MaxSequenceLength < 2) throw new PruningRequestException($"MaxSequenceLength must be at least 2, got {MaxSequenceLength}.");
        if (CalibrationSentences is { Count: 0 }) throw new PruningRequestException("CalibrationSentences is empty; give at least one sentence or leave it null for the built-in sample.");
    }

    private static void CheckFraction(double value, string name)
    {
        if (double.IsNaN(value) || value < 0 || value >= 1)
            throw new PruningRequestException($"{name} must be at least 0 and below 1 (a fraction of each layer's to remove), got {value}.");
    }
}
