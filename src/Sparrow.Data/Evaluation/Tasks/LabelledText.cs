namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>A text and the index of its class in its <see cref="LabelledDataset.ClassNames"/>.</summary>
public sealed record LabelledText(string Text, int Label);
