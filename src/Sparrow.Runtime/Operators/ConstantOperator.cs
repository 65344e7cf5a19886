using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Constant: a tensor given by exactly one attribute: 'value' (a tensor), or from opset 12 'value_float',
/// 'value_floats' (float32), 'value_int', 'value_ints' (int64). String values and 'sparse_value' are not
/// supported. The tensor is built once; each run returns a view of it.
/// </summary>
[OnnxOperator("Constant")]
internal sealed class ConstantOperator : Operator
{
    private readonly Tensor _value;

    public ConstantOperator(Node node, OperatorContext context) : base(node)
    {
        var given = node.Attributes.Where(a => a.Name.StartsWith("value", StringComparison.Ordinal) || a.Name == "sparse_value").ToList();
        if (given.Count != 1)
            throw new ArgumentException($"Constant needs exactly one value attribute, got {(given.Count == 0 ? "none" : string.Join(", ", given.Select(a => a.Name)))}.");
        var attribute = given[0];
        _value = attribute.Name switch
        {
            "value" => attribute.AsTensor(),
            "value_float" => Tensor<float>.Scalar(attribute.AsFloat()),
            "value_floats" => Tensor<float>.FromArray(attribute.AsFloats(), attribute.AsFloats().Length),
            "value_int" => Tensor<long>.Scalar(attribute.AsInt()),
            "value_ints" => Tensor<long>.FromArray(attribute.AsInts(), attribute.AsInts().Length),
            "value_string" or "value_strings" => throw new NotSupportedException($"Constant attribute '{attribute.Name}' is not supported: Sparrow has no string tensors."),
            "sparse_value" => throw new NotSupportedException("Constant attribute 'sparse_value' is not supported: Sparrow has no sparse tensors in graphs."),
            _ => throw new NotSupportedException($"Constant attribute '{attribute.Name}' is not supported."),
        };
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) => [_value.Reshape(_value.Shape)];
}
