using Sparrow.Tensors;

namespace Sparrow.Training.Data;

/// <summary>Labelled examples in memory: one float feature block per example (all of one shape) and a class label.</summary>
public sealed class ArrayDataset
{
    private readonly float[] _features;

    /// <param name="features">Example after example, each of <paramref name="exampleShape"/>.</param>
    /// <param name="exampleShape">Shape of one example (for example [784] or [1, 28, 28]).</param>
    /// <param name="labels">Class of each example.</param>
    public ArrayDataset(float[] features, int[] exampleShape, int[] labels)
    {
        ExampleShape = exampleShape;
        ExampleLength = TensorShape.Product(exampleShape);
        if (features.Length != ExampleLength * labels.Length)
            throw new ArgumentException($"{features.Length} feature values do not make {labels.Length} examples of shape {TensorShape.Format(exampleShape)}.");
        _features = features;
        Labels = labels;
    }

    /// <summary>Shape of one example.</summary>
    public int[] ExampleShape { get; }

    /// <summary>Elements per example.</summary>
    public int ExampleLength { get; }

    /// <summary>Class labels.</summary>
    public int[] Labels { get; }

    /// <summary>Number of examples.</summary>
    public int Count => Labels.Length;

    /// <summary>The examples at <paramref name="indices"/> as one tensor [batch, ...ExampleShape], and their labels.</summary>
    public (Tensor<float> Features, int[] Labels) Batch(ReadOnlySpan<int> indices)
    {
        var data = new float[indices.Length * ExampleLength];
        var labels = new int[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            _features.AsSpan(indices[i] * ExampleLength, ExampleLength).CopyTo(data.AsSpan(i * ExampleLength));
            labels[i] = Labels[indices[i]];
        }
        return (Tensor<float>.FromArray(data, [indices.Length, .. ExampleShape]), labels);
    }

    /// <summary>Examples [start, start + count) in order.</summary>
    public (Tensor<float> Features, int[] Labels) Range(int start, int count) =>
        Batch(Enumerable.Range(start, count).ToArray());
}
