using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Elementwise;

/// <summary>Reads a shape given as a tensor (Expand, ConstantOfShape), with errors that name the input.</summary>
internal static class ShapeInput
{
    public static int[] Read(Tensor tensor, string what)
    {
        if (tensor.ElementType != DataType.Int64)
            throw new ArgumentException($"{what} must be int64, got {DataTypes.Name(tensor.ElementType)}.");
        if (tensor.Rank != 1)
            throw new ArgumentException($"{what} must be a 1-D tensor, got shape {TensorShape.Format(tensor.Shape)}.");
        var values = tensor.As<long>().Span;
        var shape = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] < 0 || values[i] > int.MaxValue)
                throw new ArgumentException($"{what} has dimension {values[i]}, which is negative or too large.");
            shape[i] = (int)values[i];
        }
        // The size is checked against the session's limit where the output is made (RunContext.EnsureFits), before allocating.
        return shape;
    }
}
