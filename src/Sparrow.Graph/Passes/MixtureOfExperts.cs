using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// One <c>ai.sparrow:MoE</c> layer as <see cref="MixtureOfExperts.Describe"/> reads it from a model: its size and
/// how many of its parameters one token uses.
/// </summary>
/// <param name="Node">The node's display name.</param>
/// <param name="Experts">E, the number of experts.</param>
/// <param name="K">Experts chosen per token.</param>
/// <param name="ModelDimension">d, the width of X.</param>
/// <param name="HiddenDimension">h, each expert's intermediate width.</param>
/// <param name="TotalParameters">Router plus every expert's weights and biases.</param>
/// <param name="ActiveParametersPerToken">Router plus k experts' weights and biases: what one token multiplies by.</param>
public sealed record MoELayerInfo(string Node, int Experts, int K, int ModelDimension, int HiddenDimension, long TotalParameters, long ActiveParametersPerToken);

/// <summary>
/// Sparrow's mixture-of-experts operator (<see cref="SparrowOps.MoE"/>) outside the runtime: its parameter
/// counts, and its rewriting into standard ONNX operators so that other runtimes can run a Sparrow MoE model.
/// </summary>
public static class MixtureOfExperts
{
    /// <summary>
    /// Every MoE node of the model whose weights are initializers (others are skipped: their sizes are not
    /// known before a run), with its total and per-token active parameter counts.
    /// </summary>
    public static IReadOnlyList<MoELayerInfo> Describe(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<MoELayerInfo>();
        var initializers = model.Graph.Initializers;
        foreach (var node in model.Graph.Nodes)
        {
            if (node.OpType != SparrowOps.MoE || node.Domain != SparrowOps.Domain || node.Inputs.Count < 6) continue;
            if (!initializers.TryGetValue(node.Inputs[1], out var router) || !initializers.TryGetValue(node.Inputs[3], out var w1)
                || router.Rank != 2 || w1.Rank != 3)
                continue;
            int e = router.Shape[0], d = router.Shape[1], h = w1.Shape[1];
            var k = (int)node.GetInt("k", 2);
            bool Has(int i) => node.Inputs.Count > i && node.Inputs[i].Length > 0;
            long routerParameters = (long)e * d + (Has(2) ? e : 0);
            long perExpert = 2L * h * d + (Has(4) ? h : 0) + (Has(6) ? d : 0);
            result.Add(new MoELayerInfo(node.DisplayName, e, k, d, h, routerParameters + e * perExpert, routerParameters + Math.Min(k, e) * perExpert));
        }
        return result;
    }

    /// <summary>
    /// Rewrites every <c>ai.sparrow:MoE</c> node into standard ONNX operators (opset 13 or later): every expert
    /// runs over every token (MatMul over [E, T, ·]), the gates come from Softmax and TopK (renormalised with
    /// ReduceSum and Div), ScatterElements puts them into a dense [T, E] gate matrix that is zero for experts
    /// not chosen, and a weighted ReduceSum over experts gives Y. The optional expert_counts and router_logits
    /// outputs are rewritten too. The result equals the operator's dropless form up to float rounding (ties in
    /// TopK aside); it does E/k times the expert work, which is the price of running anywhere.
    /// Returns how many nodes were rewritten.
    /// </summary>
    /// <exception cref="NotSupportedException">A node drops tokens (capacity_factor &gt; 0), which plain ONNX cannot
    /// express, or the model's opset is below 13.</exception>
    public static int ExpandToStandardOnnx(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var nodes = model.Graph.Nodes.Where(n => n.OpType == SparrowOps.MoE && n.Domain == SparrowOps.Domain).ToArray();
        if (nodes.Length == 0) return 0;
        if (model.Opset < 13)
            throw new NotSupportedException($"Expanding MoE into standard ONNX needs opset 13 or later; the model has opset {model.Opset}.");
        var names = new HashSet<string>(model.Graph.Nodes.SelectMany(n => n.Inputs.Concat(n.Outputs)));
        names.UnionWith(model.Graph.Initializers.Keys);
        names.UnionWith(model.Graph.Inputs.Select(i => i.Name));
        foreach (var node in nodes)
        {
            if (node.GetFloat("capacity_factor", 0f) > 0)
                throw new NotSupportedException(
                    $"MoE node {node.DisplayName} drops tokens (capacity_factor = {node.GetFloat("capacity_factor", 0f)}); plain ONNX cannot express capacity dropping. Set capacity_factor to 0 (dropless) to export it.");
            var index = model.Graph.Nodes.IndexOf(node);
            model.Graph.Nodes.RemoveAt(index);
            var expansion = new Expansion(model, node, names);
            expansion.Build();
            model.Graph.Nodes.InsertRange(index, expansion.Nodes);
        }
        return nodes.Length;
    }

    private sealed class Expansion(Model model, Node moe, HashSet<string> names)
    {
        private readonly string _prefix = (moe.Name.Length > 0 ? moe.Name : moe.Outputs[0]) + "/moe_";

        public List<Node> Nodes { get; } = new();

        public void Build()
        {
            string Input(int i) => moe.Inputs.Count > i ? moe.Inputs[i] : "";
            string Output(int i) => moe.Outputs.Count > i ? moe.Outputs[i] : "";
            var k = moe.GetInt("k", 2);
            var activation = moe.GetString("activation", "gelu").ToLowerInvariant();
            if (activation is not ("gelu" or "relu"))
                throw new NotSupportedException($"MoE node {moe.DisplayName}: activation \"{activation}\" is not supported (use \"gelu\" or \"relu\").");
            var normalize = moe.GetInt("normalize_gates", 1) == 1;
            var weighted = moe.GetInt("gate_weighted", 1) == 1;
            string x = Input(0), router = Input(1), routerBias = Input(2), w1 = Input(3), b1 = Input(4), w2 = Input(5), b2 = Input(6);

            // X as [T, d].
            var shapeX = Add("Shape", [x]);
            var lastDim = Add("Slice", [shapeX, Const("minus1", [-1L]), Const("max", [long.MaxValue])]);
            var flatShape = Add("Concat", [Const("minus1_", [-1L]), lastDim], NodeAttribute.Int("axis", 0));
            var x2 = Add("Reshape", [x, flatShape]);

            // Routing: logits, softmax, top-k, gates scattered into a dense [T, E] matrix.
            var logits = Add("Gemm", routerBias.Length > 0 ? [x2, router, routerBias] : [x2, router], NodeAttribute.Int("transB", 1));
            var probabilities = Add("Softmax", [logits], NodeAttribute.Int("axis", -1));
            // Top-k by logit, as the fused operator ranks them (probabilities that underflow to 0 would tie).
            var topK = Emit("TopK", [logits, Const("k", [k])], 2, NodeAttribute.Int("axis", -1), NodeAttribute.Int("largest", 1), NodeAttribute.Int("sorted", 1));
            var topIndices = topK[1];
            var topValues = Add("GatherElements", [probabilities, topIndices], NodeAttribute.Int("axis", 1));
            var ones = Add("ConstantOfShape", [Add("Shape", [topValues])], NodeAttribute.TensorValue("value", Tensor<float>.FromArray([1f], 1)));
            string gatesK = !weighted ? ones
                : normalize ? Add("Div", [topValues, Add("ReduceSum", [topValues, Const("axis_last", [-1L])], NodeAttribute.Int("keepdims", 1))])
                : topValues;
            var zeros = Add("ConstantOfShape", [Add("Shape", [logits])], NodeAttribute.TensorValue("value", Tensor<float>.FromArray([0f], 1)));
            var gates = Add("ScatterElements", [zeros, topIndices, gatesK], NodeAttribute.Int("axis", 1));
            var gatesPerExpert = Add("Unsqueeze", [Add("Transpose", [gates], NodeAttribute.Ints("perm", [1, 0])), Const("axis2", [2L])]); // [E, T, 1]

            // Every expert over every token: [T, d] · [E, d, h] broadcasts to [E, T, h].
            var hidden = Add("MatMul", [x2, Add("Transpose", [w1], NodeAttribute.Ints("perm", [0, 2, 1]))]);
            if (b1.Length > 0) hidden = Add("Add", [hidden, Add("Unsqueeze", [b1, Const("axis1", [1L])])]);
            hidden = activation == "relu" ? Add("Relu", [hidden]) : Gelu(hidden);
            var expertOut = Add("MatMul", [hidden, Add("Transpose", [w2], NodeAttribute.Ints("perm", [0, 2, 1]))]); // [E, T, d]
            if (b2.Length > 0) expertOut = Add("Add", [expertOut, Add("Unsqueeze", [b2, Const("axis1_", [1L])])]);
            var mixed = Add("ReduceSum", [Add("Mul", [expertOut, gatesPerExpert]), Const("axis0", [0L])], NodeAttribute.Int("keepdims", 0));
            Nodes.Add(new Node("Reshape", [mixed, shapeX], [Output(0)], Unique("y")));

            if (Output(1).Length > 0)
            {
                var chosen = Add("ScatterElements", [zeros, topIndices, ones], NodeAttribute.Int("axis", 1));
                var counts = Add("ReduceSum", [chosen, Const("axis0_", [0L])], NodeAttribute.Int("keepdims", 0));
                Nodes.Add(new Node("Cast", [counts], [Output(1)], Unique("counts")) { Attributes = { NodeAttribute.Int("to", (long)DataType.Int64) } });
            }
            if (Output(2).Length > 0)
            {
                var leading = Add("Slice", [shapeX, Const("zero", [0L]), Const("minus1__", [-1L])]);
                var experts = Add("Slice", [Add("Shape", [router]), Const("zero_", [0L]), Const("one", [1L])]);
                var logitsShape = Add("Concat", [leading, experts], NodeAttribute.Int("axis", 0));
                Nodes.Add(new Node("Reshape", [logits, logitsShape], [Output(2)], Unique("logits")));
            }
        }

        /// <summary>Exact GELU spelled with Erf: x · 0.5 · (1 + erf(x / √2)).</summary>
        private string Gelu(string x)
        {
            var erf = Add("Erf", [Add("Div", [x, ScalarConst("sqrt2", MathF.Sqrt(2f))])]);
            var onePlus = Add("Add", [erf, ScalarConst("one_f", 1f)]);
            return Add("Mul", [Add("Mul", [x, ScalarConst("half", 0.5f)]), onePlus]);
        }

        private string Add(string opType, string[] inputs, params NodeAttribute[] attributes) => Emit(opType, inputs, 1, attributes)[0];

        private string[] Emit(string opType, string[] inputs, int outputs, params NodeAttribute[] attributes)
        {
            var outputNames = Enumerable.Range(0, outputs).Select(_ => Unique(opType.ToLowerInvariant())).ToArray();
            var node = new Node(opType, inputs, outputNames, Unique(opType));
            node.Attributes.AddRange(attributes);
            Nodes.Add(node);
            return outputNames;
        }

        private string Const(string name, long[] values)
        {
            var unique = Unique(name);
            model.Graph.Initializers[unique] = Tensor<long>.FromArray(values, values.Length);
            return unique;
        }

        private string ScalarConst(string name, float value)
        {
            var unique = Unique(name);
            model.Graph.Initializers[unique] = Tensor<float>.FromArray([value]);
            return unique;
        }

        private string Unique(string name)
        {
            var candidate = _prefix + name;
            for (var i = 1; !names.Add(candidate); i++) candidate = $"{_prefix}{name}_{i}";
            return candidate;
        }
    }
}
