namespace Sparrow.Runtime.Operators;

/// <summary>Registers an <see cref="Operator"/> for an op type. The class needs a constructor (Node, OperatorContext).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
internal sealed class OnnxOperatorAttribute(string opType) : Attribute
{
    public string OpType { get; } = opType;

    /// <summary>"" is the default ONNX domain; Sparrow's fused operators use <see cref="OperatorContext.SparrowDomain"/>.</summary>
    public string Domain { get; init; } = "";
}
