using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// GELU, element-wise: ONNX Gelu (opset 20; attribute approximate = "none" for x/2·(1 + erf(x/√2)), or
/// "tanh" for x/2·(1 + tanh(√(2/π)·(x + 0.044715x³)))) and Sparrow's fused ai.sparrow:Gelu, which the GELU
/// fusion makes from the Erf pattern and which takes the same attribute. float32.
/// </summary>
[OnnxOperator("Gelu")]
[OnnxOperator("Gelu", Domain = OperatorContext.SparrowDomain)]
internal sealed class GeluOperator : Operator
{
    /// <summary>Below this many elements per thread, splitting costs more than it saves.</summary>
    private const int MinElementsPerThread = 1 << 14;

    private readonly bool _tanh;

    public GeluOperator(Node node, OperatorContext context) : base(node)
    {
        _tanh = node.GetString("approximate", "none") switch
        {
            "none" => false,
            "tanh" => true,
            var other => throw new NotSupportedException($"Gelu approximate=\"{other}\" is not supported (use \"none\" or \"tanh\")."),
        };
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var y = Tensor<float>.Allocate(x.Shape, clear: false);
        var source = x.Memory;
        var destination = y.Memory;
        var tanh = _tanh;
        var chunks = Math.Clamp(x.Length / MinElementsPerThread, 1, context.Threads);
        if (chunks == 1)
        {
            Apply(source.Span, destination.Span, tanh);
        }
        else
        {
            var chunk = (x.Length + chunks - 1) / chunks;
            GemmParallel.For(chunks, chunks, c =>
            {
                var start = c * chunk;
                var length = Math.Min(chunk, x.Length - start);
                if (length > 0) Apply(source.Span.Slice(start, length), destination.Span.Slice(start, length), tanh);
            });
        }
        return new Tensor[] { y };
    }

    private static void Apply(ReadOnlySpan<float> x, Span<float> y, bool tanh)
    {
        if (tanh) ErfKernel.GeluTanh(x, y);
        else ErfKernel.Gelu(x, y);
    }
}
