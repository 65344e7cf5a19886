namespace Sparrow.Conformance.Tests;

/// <summary>
/// The one place that lists the ONNX node test cases of claimed operators that Sparrow rejects on purpose,
/// with the reason. A listed case must fail with a clear "not supported" error; any other failure, or a
/// listed case that starts passing, fails the suite.
/// </summary>
public static class UnsupportedCases
{
    /// <summary>Case-name prefixes (or exact names) and why Sparrow rejects them.</summary>
    public static readonly IReadOnlyList<(string Prefix, string Reason)> Entries = new (string, string)[]
    {
        ("test_cast_FLOAT_to_STRING", "string tensors are not supported"),
        ("test_cast_STRING_to_FLOAT", "string tensors are not supported"),
        ("test_cast_FLOAT_to_FLOAT8", "float8 types are not supported"),
        ("test_cast_FLOAT16_to_FLOAT8", "float8 types are not supported"),
        ("test_cast_FLOAT8", "float8 types are not supported"),
        ("test_cast_no_saturate_", "float8 types are not supported"),
        ("test_cast_e8m0_", "float8e8m0 is not supported"),
        ("test_cast_BFLOAT16", "bfloat16 is not supported"),
        ("test_cast_FLOAT_to_BFLOAT16", "bfloat16 is not supported"),
        ("test_cast_FLOAT_to_INT4", "4-bit integer types are not supported"),
        ("test_cast_FLOAT_to_UINT4", "4-bit integer types are not supported"),
        ("test_cast_FLOAT16_to_INT4", "4-bit integer types are not supported"),
        ("test_cast_FLOAT16_to_UINT4", "4-bit integer types are not supported"),
        ("test_cast_INT4", "4-bit integer types are not supported"),
        ("test_cast_UINT4", "4-bit integer types are not supported"),
        ("test_cast_FLOAT_to_INT2", "2-bit integer types are not supported"),
        ("test_cast_FLOAT_to_UINT2", "2-bit integer types are not supported"),
        ("test_cast_FLOAT16_to_INT2", "2-bit integer types are not supported"),
        ("test_cast_FLOAT16_to_UINT2", "2-bit integer types are not supported"),
        ("test_cast_INT2", "2-bit integer types are not supported"),
        ("test_cast_UINT2", "2-bit integer types are not supported"),
        ("test_cast_FLOAT_to_FLOAT4", "4-bit float types are not supported"),
        ("test_cast_FLOAT16_to_FLOAT4", "4-bit float types are not supported"),
        ("test_cast_FLOAT4", "4-bit float types are not supported"),
        // CastLike's expanded form is a Cast node, so its cases are claimed through Cast.
        ("test_castlike_FLOAT_to_FLOAT8", "float8 types are not supported"),
        ("test_castlike_FLOAT16_to_FLOAT8", "float8 types are not supported"),
        ("test_castlike_FLOAT8", "float8 types are not supported"),
        ("test_castlike_no_saturate_", "float8 types are not supported"),
        ("test_castlike_BFLOAT16", "bfloat16 is not supported"),
        ("test_castlike_FLOAT_to_BFLOAT16", "bfloat16 is not supported"),
        ("test_castlike_FLOAT_to_INT4", "4-bit integer types are not supported"),
        ("test_castlike_FLOAT_to_UINT4", "4-bit integer types are not supported"),
        ("test_castlike_FLOAT16_to_INT4", "4-bit integer types are not supported"),
        ("test_castlike_FLOAT16_to_UINT4", "4-bit integer types are not supported"),
        ("test_castlike_INT4", "4-bit integer types are not supported"),
        ("test_castlike_UINT4", "4-bit integer types are not supported"),
        ("test_castlike_FLOAT_to_INT2", "2-bit integer types are not supported"),
        ("test_castlike_FLOAT_to_UINT2", "2-bit integer types are not supported"),
        ("test_castlike_FLOAT16_to_INT2", "2-bit integer types are not supported"),
        ("test_castlike_FLOAT16_to_UINT2", "2-bit integer types are not supported"),
        ("test_castlike_INT2", "2-bit integer types are not supported"),
        ("test_castlike_UINT2", "2-bit integer types are not supported"),
        ("test_castlike_FLOAT_to_FLOAT4", "4-bit float types are not supported"),
        ("test_castlike_FLOAT16_to_FLOAT4", "4-bit float types are not supported"),
        ("test_castlike_FLOAT4", "4-bit float types are not supported"),
        ("test_equal_string", "string tensors are not supported"),
        ("test_identity_opt", "optional values are not supported (tensors only)"),
        ("test_identity_sequence", "sequence values are not supported (tensors only)"),
        ("test_flexattention_double_expanded", "float64 math (Softmax, MatMul) is not supported: Sparrow computes in float32"),
        ("test_flexattention_fp16_expanded", "float16 math (Softmax, MatMul) is not supported: Sparrow computes in float32"),
    };

    public static string? ReasonFor(string caseName)
    {
        foreach (var (prefix, reason) in Entries)
            if (caseName.StartsWith(prefix, StringComparison.Ordinal)) return reason;
        return null;
    }

    /// <summary>Whether an error says that Sparrow does not support something (as opposed to a wrong result or a crash).</summary>
    public static bool IsNotSupported(Exception e) =>
        e.Message.Contains("not supported", StringComparison.OrdinalIgnoreCase)
        // The importer's wording for element types it cannot hold ("..., which Sparrow does not support").
        || e.Message.Contains("does not support", StringComparison.OrdinalIgnoreCase);

}
