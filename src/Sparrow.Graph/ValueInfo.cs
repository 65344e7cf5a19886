using Sparrow.Tensors;

namespace Sparrow.Graph;

/// <summary>The declared type of a graph input, output or intermediate value.</summary>
public sealed class ValueInfo
{
    /// <summary>A value called <paramref name="name"/> of <paramref name="elementType"/>; <paramref name="shape"/> is null when even the rank is unknown.</summary>
    public ValueInfo(string name, DataType elementType, IReadOnlyList<Dimension>? shape)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
    }

    /// <summary>The value's name, as nodes refer to it.</summary>
    public string Name { get; set; }

    /// <summary>The element type.</summary>
    public DataType ElementType { get; set; }

    /// <summary>Null when the rank itself is unknown.</summary>
    public IReadOnlyList<Dimension>? Shape { get; set; }

    /// <summary>Free-form documentation of the value.</summary>
    public string DocString { get; set; } = "";

    /// <summary>
    /// The ONNX type as read, when it is not a tensor (a sequence, map or optional; then <see cref="ElementType"/> is
    /// Undefined): kept as its TypeProto bytes so that a model saved again declares it as it did. Null for tensors.
    /// </summary>
    public byte[]? OtherType { get; set; }

    /// <summary>The name, type and shape, e.g. "input_ids: int64[batch,seq]".</summary>
    public override string ToString() =>
        $"{Name}: {DataTypes.Name(ElementType)}" + (Shape is null ? "[?]" : "[" + string.Join(",", Shape) + "]");
}
