using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Cast: converts to the element type in 'to', as a C cast does (floats to integers truncate toward zero,
/// to bool means "not zero"). Covers every type a tensor holds: float16/32/64, (u)int8..64 and bool.
/// String, bfloat16, float8 and 4-bit targets are rejected; 'saturate' (opset 19) only concerns float8.
/// </summary>
[OnnxOperator("Cast")]
internal sealed class CastOperator : Operator
{
    private readonly DataType _to;

    public CastOperator(Node node, OperatorContext context) : base(node)
    {
        var to = node.FindAttribute("to") ?? throw new ArgumentException("attribute 'to' is required.");
        _to = (DataType)to.AsInt();
        if (!DataTypes.IsSupported(_to))
            throw new NotSupportedException($"Cast to element type {DescribeTarget(to.AsInt())} is not supported.");
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        return [x.ElementType == _to ? x.Reshape(x.Shape) : Conversion.Convert(x, _to, context)];
    }

    private static string DescribeTarget(long code) => code switch
    {
        8 => "string",
        16 => "bfloat16",
        14 or 15 => "complex",
        17 => "float8e4m3fn",
        18 => "float8e4m3fnuz",
        19 => "float8e5m2",
        20 => "float8e5m2fnuz",
        21 => "uint4",
        22 => "int4",
        23 => "float4e2m1",
        24 => "float8e8m0",
        25 => "uint2",
        26 => "int2",
        _ => $"code {code}",
    };
}
