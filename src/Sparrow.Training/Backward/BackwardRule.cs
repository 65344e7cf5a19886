using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>
/// The backward rule of one node: from the gradients of its outputs (and what the forward pass kept: its
/// inputs and outputs), the gradients of its inputs. One class per op type, found by
/// <see cref="BackwardRuleAttribute"/>, compiled once per node like an <see cref="Operator"/>.
/// </summary>
internal abstract class BackwardRule
{
    /// <summary>Keeps the node.</summary>
    protected BackwardRule(Node node) => Node = node;

    /// <summary>The node this rule differentiates.</summary>
    public Node Node { get; }

    /// <summary>
    /// Gradients of the node's inputs, one entry per input: null where the input needs none
    /// (<see cref="BackwardContext.NeedsGradient"/> is false) or has none (indices, shapes). Returned tensors
    /// belong to the caller.
    /// </summary>
    public abstract Tensor<float>?[] Backward(BackwardContext context);
}

/// <summary>What a backward rule reads: the forward pass's tensors, the output gradients, which inputs need one.</summary>
internal sealed class BackwardContext
{
    internal BackwardContext(Tensor?[] inputs, Tensor?[] outputs, Tensor<float>?[] outputGradients, bool[] needsGradient,
        Autograd.ParameterMask?[] inputMasks, int threads, bool sparseWeightGradients)
    {
        Inputs = inputs;
        Outputs = outputs;
        OutputGradients = outputGradients;
        NeedsGradient = needsGradient;
        InputMasks = inputMasks;
        Threads = threads;
        SparseWeightGradients = sparseWeightGradients;
    }

    /// <summary>The node's inputs as the forward pass saw them (null for omitted optional inputs).</summary>
    public Tensor?[] Inputs { get; }

    /// <summary>The node's outputs from the forward pass.</summary>
    public Tensor?[] Outputs { get; }

    /// <summary>The gradient of each output; null where nothing downstream depends on that output.</summary>
    public Tensor<float>?[] OutputGradients { get; }

    /// <summary>Whether each input needs a gradient (it is, or depends on, a trainable parameter).</summary>
    public bool[] NeedsGradient { get; }

    /// <summary>The mask of each input that is a pruned parameter (else null): its gradient is only needed at kept positions.</summary>
    public Autograd.ParameterMask?[] InputMasks { get; }

    /// <summary>Threads a rule may use.</summary>
    public int Threads { get; }

    /// <summary>Compute the weight gradient of a masked MatMul/Gemm/Linear only at its kept positions.</summary>
    public bool SparseWeightGradients { get; }

    /// <summary>Input <paramref name="index"/> as float32, with an error when it is absent or of another type.</summary>
    public Tensor<float> Input(int index) =>
        index < Inputs.Length && Inputs[index] is Tensor<float> t ? t
            : throw new InvalidOperationException($"input {index} must be a float32 tensor for the backward pass, got {(index < Inputs.Length ? Inputs[index]?.ToString() ?? "nothing" : "nothing")}.");

    /// <summary>Output <paramref name="index"/> as float32.</summary>
    public Tensor<float> Output(int index) =>
        Outputs[index] as Tensor<float> ?? throw new InvalidOperationException($"output {index} must be a float32 tensor for the backward pass.");

    /// <summary>Whether input <paramref name="index"/> exists and needs a gradient.</summary>
    public bool Needs(int index) => index < NeedsGradient.Length && NeedsGradient[index];

    /// <summary>The gradient of output <paramref name="index"/>, or zeros of its shape when nothing flowed back into it.</summary>
    public Tensor<float> OutputGradient(int index = 0) =>
        OutputGradients[index] ?? Tensor<float>.Allocate(Outputs[index]!.Shape, clear: true);
}

/// <summary>Marks a <see cref="BackwardRule"/> with the op type it differentiates (several allowed).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
internal sealed class BackwardRuleAttribute(string opType) : Attribute
{
    /// <summary>The ONNX op type.</summary>
    public string OpType { get; } = opType;

    /// <summary>The domain: "" for ai.onnx.</summary>
    public string Domain { get; init; } = "";
}
