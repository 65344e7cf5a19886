using Sparrow.Tensors;

namespace Sparrow.Graph;

/// <summary>The declared type of a graph input, output or intermediate value.</summary>
public sealed class ValueInfo
{
    public ValueInfo(string name, DataType elementType, IReadOnlyList<Dimension>? shape)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
    }

    public string Name { get; set; }

    public DataType ElementType { get; set; }

    /// <summary>Null when the rank itself is unknown.</summary>
    public IReadOnlyList<Dimension>? Shape { get; set; }

    public string DocString { get; set; } = "";

    public override string ToString() =>
        $"{Name}: {DataTypes.Name(ElementType)}" + (Shape is null ? "[?]" : "[" + string.Join(",", Shape) + "]");
}
