using Sparrow.Tensors;

namespace Sparrow.Training.Autograd;

/// <summary>
/// A trainable float initializer: its value (the model's own tensor, updated in place), the gradient that
/// backward passes accumulate into it, and an optional mask of the positions that may change.
/// </summary>
public sealed class Parameter
{
    internal Parameter(string name, Tensor<float> value)
    {
        Name = name;
        Value = value;
        Gradient = new float[value.Length];
    }

    /// <summary>The initializer's name.</summary>
    public string Name { get; }

    /// <summary>The tensor the graph reads; optimizers change it in place.</summary>
    public Tensor<float> Value { get; }

    /// <summary>The accumulated gradient, one element per element of <see cref="Value"/>.</summary>
    public float[] Gradient { get; }

    /// <summary>Kept positions of a pruned parameter; null when every position trains.</summary>
    public ParameterMask? Mask { get; set; }

    /// <summary>Number of elements.</summary>
    public int Length => Gradient.Length;

    /// <summary>Sets the gradient to zero.</summary>
    public void ZeroGradient() => Array.Clear(Gradient);

    /// <summary>Zeroes the pruned positions of the value and of the gradient.</summary>
    public void EnforceMask()
    {
        if (Mask is null) return;
        Mask.ZeroPruned(Value.Span);
        Mask.ZeroPruned(Gradient);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {TensorShape.Format(Value.Shape)}{(Mask is null ? "" : $" (density {Mask.Density:P1})")}";
}
