using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;
using Sparrow.Training.Backward;
using static Sparrow.Training.Tests.GraphCases;

namespace Sparrow.Training.Tests;

/// <summary>
/// Every backward rule against central finite differences of the runtime's own forward pass. The loss is
/// L = Σ y ⊙ r for a fixed random r, accumulated in float64; each checked element is moved by ±ε.
/// </summary>
public class GradientCheckTests
{
    private static NodeAttribute Ints(string name, params long[] v) => NodeAttribute.Ints(name, v);
    private static NodeAttribute Int(string name, long v) => NodeAttribute.Int(name, v);

    private static readonly Dictionary<string, Func<(Model Model, string[] Parameters)>> Cases = new()
    {
        ["MatMul_2d"] = () => OneNode("MatMul", [T("a", Random(1, 3, 4)), T("b", Random(2, 4, 5))]),
        ["MatMul_batched_a_2d_b"] = () => OneNode("MatMul", [T("a", Random(3, 2, 3, 4)), T("b", Random(4, 4, 5))]),
        ["MatMul_broadcast_batch"] = () => OneNode("MatMul", [T("a", Random(5, 2, 1, 3, 4)), T("b", Random(6, 3, 4, 2))]),
        ["MatMul_1d_a"] = () => OneNode("MatMul", [T("a", Random(7, 4)), T("b", Random(8, 4, 5))]),
        ["MatMul_1d_b"] = () => OneNode("MatMul", [T("a", Random(9, 2, 3, 4)), T("b", Random(10, 4))]),
        ["Gemm_bias_row"] = () => OneNode("Gemm", [T("a", Random(11, 3, 4)), T("b", Random(12, 4, 5)), T("c", Random(13, 5))]),
        ["Gemm_transA"] = () => OneNode("Gemm", [T("a", Random(14, 4, 3)), T("b", Random(15, 4, 5)), T("c", Random(16, 3, 5))], [Int("transA", 1)]),
        ["Gemm_transB_alpha_beta_column_c"] = () => OneNode("Gemm", [T("a", Random(17, 3, 4)), T("b", Random(18, 5, 4)), T("c", Random(19, 3, 1))],
            [Int("transB", 1), NodeAttribute.Float("alpha", 0.7f), NodeAttribute.Float("beta", 1.3f)]),
        ["Gemm_transA_transB_scalar_c"] = () => OneNode("Gemm", [T("a", Random(20, 4, 3)), T("b", Random(21, 5, 4)), T("c", Random(22, 1))],
            [Int("transA", 1), Int("transB", 1)]),
        ["Add_same_shape"] = () => OneNode("Add", [T("a", Random(23, 2, 3)), T("b", Random(24, 2, 3))]),
        ["Add_broadcast_row"] = () => OneNode("Add", [T("a", Random(25, 2, 3, 4)), T("b", Random(26, 4))]),
        ["Add_broadcast_both"] = () => OneNode("Add", [T("a", Random(27, 2, 1, 4)), T("b", Random(28, 3, 1))]),
        ["Sub_broadcast"] = () => OneNode("Sub", [T("a", Random(29, 3, 4)), T("b", Random(30, 1, 4))]),
        ["Mul_broadcast_scalar"] = () => OneNode("Mul", [T("a", Random(31, 2, 3, 4)), T("b", Random(32))]),
        ["Mul_broadcast_column"] = () => OneNode("Mul", [T("a", Random(33, 3, 4)), T("b", Random(34, 3, 1))]),
        ["Div_broadcast"] = () => OneNode("Div", [T("a", Random(35, 3, 4)), T("b", Positive(36, 4))]),
        ["Pow_square_constant_exponent"] = () => OneNode("Pow", [T("a", Random(37, 3, 4)), C("b", Tensor<float>.Scalar(2f))]),
        ["Pow_trainable_exponent"] = () => OneNode("Pow", [T("a", Positive(38, 3, 4)), T("b", Positive(39, 4))]),
        ["Relu"] = () => OneNode("Relu", [T("x", Random(40, 3, 5))]),
        ["Tanh"] = () => OneNode("Tanh", [T("x", Random(41, 3, 5))]),
        ["Sigmoid"] = () => OneNode("Sigmoid", [T("x", Random(42, 3, 5))]),
        ["Gelu"] = () => OneNode("Gelu", [T("x", Random(43, 3, 5))], opset: 20),
        ["Gelu_tanh"] = () => OneNode("Gelu", [T("x", Random(44, 3, 5))], [NodeAttribute.String("approximate", "tanh")], opset: 20),
        ["Erf"] = () => OneNode("Erf", [T("x", Random(45, 3, 5))]),
        ["Exp"] = () => OneNode("Exp", [T("x", Random(46, 3, 5))]),
        ["Sqrt"] = () => OneNode("Sqrt", [T("x", Positive(47, 3, 5))]),
        ["Softmax_last_axis"] = () => OneNode("Softmax", [T("x", Random(48, 3, 5))]),
        ["Softmax_middle_axis"] = () => OneNode("Softmax", [T("x", Random(49, 2, 3, 4))], [Int("axis", 1)]),
        ["Softmax_opset11_coerced"] = () => OneNode("Softmax", [T("x", Random(50, 2, 3, 4))], [Int("axis", 1)], opset: 11),
        ["ReduceMean_keepdims"] = () => OneNode("ReduceMean", [T("x", Random(51, 2, 3, 4))], [Ints("axes", -1)], opset: 13),
        ["ReduceMean_no_keepdims_two_axes"] = () => OneNode("ReduceMean", [T("x", Random(52, 2, 3, 4))], [Ints("axes", 0, 2), Int("keepdims", 0)], opset: 13),
        ["ReduceMean_axes_input"] = () => OneNode("ReduceMean", [T("x", Random(53, 2, 3, 4)), C("axes", Longs([1], 1))], opset: 18),
        ["ReduceSum_all"] = () => OneNode("ReduceSum", [T("x", Random(54, 2, 3, 4))], [Int("keepdims", 0)], opset: 13),
        ["LayerNormalization_last_axis"] = () => OneNode("LayerNormalization", [T("x", Random(55, 3, 6)), T("scale", Random(56, 6)), T("bias", Random(57, 6))]),
        ["LayerNormalization_axis1"] = () => OneNode("LayerNormalization", [T("x", Random(58, 2, 3, 4)), T("scale", Random(59, 3, 4)), T("bias", Random(60, 3, 4))], [Int("axis", 1)]),
        ["Reshape"] = () => OneNode("Reshape", [T("x", Random(61, 2, 3, 4)), C("shape", Longs([4, -1], 2))]),
        ["Flatten"] = () => OneNode("Flatten", [T("x", Random(62, 2, 3, 4))], [Int("axis", 2)]),
        ["Unsqueeze"] = () => OneNode("Unsqueeze", [T("x", Random(63, 3, 4)), C("axes", Longs([0], 1))]),
        ["Squeeze"] = () => OneNode("Squeeze", [T("x", Random(64, 3, 1, 4)), C("axes", Longs([1], 1))]),
        ["Transpose"] = () => OneNode("Transpose", [T("x", Random(65, 2, 3, 4))], [Ints("perm", 2, 0, 1)]),
        ["Gather_embedding_repeated_indices"] = () => OneNode("Gather", [T("table", Random(66, 5, 3)), C("ids", Longs([1, 4, 1, 0, 4, 4], 2, 3))]),
        ["Gather_axis1_negative_index"] = () => OneNode("Gather", [T("x", Random(67, 3, 4)), C("ids", Longs([-1, 0], 2))], [Int("axis", 1)]),
        ["Concat_axis1"] = () => OneNode("Concat", [T("a", Random(68, 2, 3)), C("b", Random(69, 2, 2)), T("c", Random(70, 2, 1))], [Int("axis", 1)]),
        ["Slice_steps"] = () => OneNode("Slice", [T("x", Random(71, 4, 6)), C("starts", Longs([1, 5], 2)), C("ends", Longs([4, 0], 2)), C("axes", Longs([0, 1], 2)), C("steps", Longs([2, -2], 2))]),
        ["Expand"] = () => OneNode("Expand", [T("x", Random(72, 3, 1)), C("shape", Longs([2, 3, 4], 3))]),
        ["Where_broadcast"] = () => OneNode("Where", [C("c", Tensor<bool>.FromArray([true, false, true, false], 4)), T("x", Random(73, 3, 4)), T("y", Random(74, 1))]),
        ["Cast_float"] = () => OneNode("Cast", [T("x", Random(75, 3, 4))], [Int("to", 1)]),
        ["Conv_pads_bias"] = () => OneNode("Conv", [T("x", Random(76, 2, 3, 5, 5)), T("w", Random(77, 4, 3, 3, 3)), T("b", Random(78, 4))], [Ints("pads", 1, 1, 1, 1)]),
        ["Conv_stride2_no_pad"] = () => OneNode("Conv", [T("x", Random(79, 1, 2, 6, 7)), T("w", Random(80, 3, 2, 3, 2))], [Ints("strides", 2, 2)]),
        ["Conv_groups_dilation_same_upper"] = () => OneNode("Conv", [T("x", Random(81, 1, 4, 6, 6)), T("w", Random(82, 2, 2, 2, 2)), T("b", Random(83, 2))],
            [Int("group", 2), Ints("dilations", 2, 2), NodeAttribute.String("auto_pad", "SAME_UPPER")]),
        ["MaxPool_2x2"] = () => OneNode("MaxPool", [T("x", Distinct(84, 2, 2, 4, 4))], [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)]),
        ["MaxPool_3x3_pads_overlapping"] = () => OneNode("MaxPool", [T("x", Distinct(85, 1, 2, 5, 5))], [Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)]),
        ["GlobalAveragePool"] = () => OneNode("GlobalAveragePool", [T("x", Random(86, 2, 3, 4, 4))]),
        ["BatchNormalization"] = () => OneNode("BatchNormalization", [T("x", Random(87, 2, 3, 2, 2)), T("scale", Random(88, 3)), T("bias", Random(89, 3)),
            C("mean", Random(90, 3)), C("var", Positive(91, 3))]),
        ["Linear_sparrow_relu"] = () => OneNode("Linear", [T("x", Random(92, 2, 3, 4)), T("w", Random(93, 4, 5)), T("b", Random(94, 5))],
            [NodeAttribute.String("activation", "Relu")], domain: "ai.sparrow"),
        ["Linear_sparrow_gelu"] = () => OneNode("Linear", [T("x", Random(95, 3, 4)), T("w", Random(96, 4, 5)), T("b", Random(97, 5))],
            [NodeAttribute.String("activation", "Gelu")], domain: "ai.sparrow"),
        ["Mlp_shared_input_and_shape_branch"] = Mlp,
        ["LogSoftmax_last_axis"] = () => OneNode("LogSoftmax", [T("x", Random(102, 3, 5))], opset: 13),
        ["LogSoftmax_middle_axis"] = () => OneNode("LogSoftmax", [T("x", Random(103, 2, 3, 4))], [Int("axis", 1)], opset: 13),
        ["LogSoftmax_first_axis_negative"] = () => OneNode("LogSoftmax", [T("x", Random(104, 2, 3, 4))], [Int("axis", -3)], opset: 13),
        ["LogSoftmax_opset11_coerced"] = () => OneNode("LogSoftmax", [T("x", Random(105, 2, 3, 4))], [Int("axis", 1)], opset: 11),
        ["Identity"] = () => OneNode("Identity", [T("x", Random(106, 3, 4))]),
        ["Sub_broadcast_first_operand"] = () => OneNode("Sub", [T("a", Random(107, 4)), T("b", Random(108, 2, 3, 4))]),
        ["Sub_broadcast_both"] = () => OneNode("Sub", [T("a", Random(109, 2, 1, 4)), T("b", Random(110, 3, 1))]),
        ["Mul_broadcast_both"] = () => OneNode("Mul", [T("a", Random(111, 3, 1)), T("b", Random(112, 2, 1, 4))]),
        ["Div_broadcast_numerator"] = () => OneNode("Div", [T("a", Random(114, 4)), T("b", Positive(115, 3, 4))]),
        ["Div_broadcast_both"] = () => OneNode("Div", [T("a", Random(116, 2, 1, 4)), T("b", Positive(117, 3, 1))]),
        ["Pow_broadcast_base"] = () => OneNode("Pow", [T("a", Positive(118, 4)), T("b", Random(119, 3, 4))]),
        ["Add_broadcast_scalar_first"] = () => OneNode("Add", [T("a", Random(120)), T("b", Random(121, 3, 4))]),
        ["Where_broadcast_condition_and_x"] = () => OneNode("Where", [C("c", Tensor<bool>.FromArray([true, false, false], 3, 1)), T("x", Random(122, 4)), T("y", Random(123, 3, 4))]),
        ["ReduceSum_axes_input_keepdims"] = () => OneNode("ReduceSum", [T("x", Random(124, 2, 3, 4)), C("axes", Longs([0, -1], 2))], opset: 13),
        ["ReduceMean_negative_axis_no_keepdims"] = () => OneNode("ReduceMean", [T("x", Random(125, 2, 3, 4))], [Ints("axes", -2), Int("keepdims", 0)], opset: 13),
        ["Equal_Constant_ConstantOfShape_Shape_carry_no_gradient"] = NoGradientBranches,
        ["Greater_Less_Not_ArgMax_Size_carry_no_gradient"] = ComparisonBranches,
        ["Tile"] = () => OneNode("Tile", [T("x", Random(127, 2, 3)), C("repeats", Longs([3, 2], 2))]),
        ["Tile_rank3_with_ones"] = () => OneNode("Tile", [T("x", Random(128, 2, 1, 3)), C("repeats", Longs([1, 4, 2], 3))]),
    };

    /// <summary>
    /// Greater, Less, Not, ArgMax and Size in a graph that trains through Where, Mul and Cast:
    /// y = Where(x &gt; 0, x, 0.1x) + Where(!(x &lt; 0), 0.1x, x) + Where(argmax_row(x) == 2, x, 0.1x) + x · size(x).
    /// </summary>
    private static (Model, string[]) ComparisonBranches()
    {
        var graph = new ModelGraph { Name = "comparisons" };
        graph.Initializers["x"] = Random(129, 3, 4);
        graph.Initializers["zero"] = Tensor<float>.Scalar(0f);
        graph.Initializers["tenth"] = Tensor<float>.Scalar(0.1f);
        graph.Initializers["two"] = Longs([2], 1);
        graph.Nodes.Add(new Node("Mul", ["x", "tenth"], ["m"], "m"));
        graph.Nodes.Add(new Node("Greater", ["x", "zero"], ["g"], "greater"));
        graph.Nodes.Add(new Node("Where", ["g", "x", "m"], ["a"], "where_a"));
        graph.Nodes.Add(new Node("Less", ["x", "zero"], ["l"], "less"));
        graph.Nodes.Add(new Node("Not", ["l"], ["nl"], "not"));
        graph.Nodes.Add(new Node("Where", ["nl", "m", "x"], ["b"], "where_b"));
        graph.Nodes.Add(new Node("ArgMax", ["x"], ["am"], "argmax") { Attributes = { NodeAttribute.Int("axis", 1) } });
        graph.Nodes.Add(new Node("Equal", ["am", "two"], ["e"], "equal"));
        graph.Nodes.Add(new Node("Where", ["e", "x", "m"], ["c"], "where_c"));
        graph.Nodes.Add(new Node("Size", ["x"], ["n"], "size"));
        graph.Nodes.Add(new Node("Cast", ["n"], ["nf"], "cast") { Attributes = { NodeAttribute.Int("to", 1) } });
        graph.Nodes.Add(new Node("Mul", ["x", "nf"], ["d"], "scale"));
        graph.Nodes.Add(new Node("Add", ["a", "b"], ["ab"], "add1"));
        graph.Nodes.Add(new Node("Add", ["ab", "c"], ["abc"], "add2"));
        graph.Nodes.Add(new Node("Add", ["abc", "d"], ["y0"], "add3"));
        graph.Outputs.Add(new ValueInfo("y0", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 13;
        return (model, ["x"]);
    }

    /// <summary>
    /// The rules without a gradient in a graph that still trains: Shape → ConstantOfShape, a Constant node, and
    /// Equal selecting through Where. y = Where(Equal(ids, k), x · c, x) + ConstantOfShape(Shape(x)) · x.
    /// </summary>
    private static (Model, string[]) NoGradientBranches()
    {
        var graph = new ModelGraph { Name = "no-gradient" };
        graph.Initializers["x"] = Random(126, 3, 4);
        graph.Initializers["ids"] = Longs([0, 1, 2, 1], 4);
        graph.Nodes.Add(new Node("Constant", [], ["k"], "k") { Attributes = { NodeAttribute.TensorValue("value", Longs([1], 1)) } });
        graph.Nodes.Add(new Node("Constant", [], ["c"], "c") { Attributes = { NodeAttribute.TensorValue("value", Tensor<float>.FromArray([-0.5f], 1)) } });
        graph.Nodes.Add(new Node("Equal", ["ids", "k"], ["e"], "equal"));
        graph.Nodes.Add(new Node("Mul", ["x", "c"], ["xc"], "scale"));
        graph.Nodes.Add(new Node("Where", ["e", "xc", "x"], ["w"], "where"));
        graph.Nodes.Add(new Node("Shape", ["x"], ["s"], "shape"));
        graph.Nodes.Add(new Node("ConstantOfShape", ["s"], ["ones"], "ones") { Attributes = { NodeAttribute.TensorValue("value", Tensor<float>.FromArray([1.5f], 1)) } });
        graph.Nodes.Add(new Node("Mul", ["ones", "x"], ["ox"], "ox"));
        graph.Nodes.Add(new Node("Add", ["w", "ox"], ["y0"], "add"));
        graph.Outputs.Add(new ValueInfo("y0", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 13;
        return (model, ["x"]);
    }

    /// <summary>Two Gemm layers with Relu, a value read twice (x into Gemm and Mul), and a Shape → Reshape branch that carries no gradient.</summary>
    private static (Model, string[]) Mlp()
    {
        var graph = new ModelGraph { Name = "mlp" };
        graph.Initializers["x"] = Random(98, 4, 3);
        graph.Initializers["w1"] = Random(99, 5, 3);
        graph.Initializers["b1"] = Random(100, 5);
        graph.Initializers["w2"] = Random(101, 2, 5);
        graph.Nodes.Add(new Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1") { Attributes = { NodeAttribute.Int("transB", 1) } });
        graph.Nodes.Add(new Node("Relu", ["h"], ["r"], "relu"));
        graph.Nodes.Add(new Node("Gemm", ["r", "w2"], ["z"], "fc2") { Attributes = { NodeAttribute.Int("transB", 1) } });
        graph.Nodes.Add(new Node("Shape", ["z"], ["zs"], "shape"));
        graph.Nodes.Add(new Node("Mul", ["x", "x"], ["xx"], "square"));
        graph.Nodes.Add(new Node("ReduceSum", ["xx"], ["s"], "sum") { Attributes = { NodeAttribute.Int("keepdims", 1) } });
        graph.Nodes.Add(new Node("Add", ["z", "s"], ["zz"], "add"));
        graph.Nodes.Add(new Node("Reshape", ["zz", "zs"], ["y0"], "reshape"));
        graph.Outputs.Add(new ValueInfo("y0", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 13;
        return (model, ["x", "w1", "b1", "w2"]);
    }

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Backward_matches_finite_differences(string name)
    {
        var (model, parameters) = Cases[name]();
        var graph = new TrainingGraph(model, parameters);
        var output = model.Graph.Outputs[0].Name;
        var checkedCount = FiniteDifferenceCheck.Run(graph, new Dictionary<string, Tensor>(), output, seed: 12345, samplesPerParameter: 24,
            absoluteTolerance: 2e-3, relativeTolerance: 1e-2, label: name + ": ");
        Assert.True(checkedCount > 0);
    }

    [Fact]
    public void Every_backward_rule_has_a_finite_difference_case()
    {
        var covered = new HashSet<string>();
        foreach (var model in Cases.Values.Select(build => build().Model).Concat(MoETrainingTests.CaseModels()))
            foreach (var node in model.Graph.Nodes)
                covered.Add(node.Domain.Length == 0 ? node.OpType : $"{node.Domain}:{node.OpType}");
        var missing = BackwardRegistry.Supported.Where(op => !covered.Contains(op)).ToArray();
        Assert.True(missing.Length == 0, "backward rules without a finite-difference case: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_rule_the_cases_cover_is_registered()
    {
        foreach (var op in new[] { "MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Pow", "Relu", "Gelu", "Erf", "Tanh", "Sigmoid", "Softmax",
                     "ReduceMean", "Sqrt", "LayerNormalization", "Reshape", "Transpose", "Gather", "Concat", "Slice", "Flatten", "Conv", "MaxPool",
                     "Where", "Cast", "Shape", "Constant", "LogSoftmax", "Identity", "Exp", "Expand", "Squeeze", "Unsqueeze", "ReduceSum",
                     "GlobalAveragePool", "BatchNormalization", "Equal", "ConstantOfShape" })
            Assert.True(BackwardRegistry.IsSupported("", op), op);
        Assert.True(BackwardRegistry.IsSupported("ai.sparrow", "Linear"));
    }
}
