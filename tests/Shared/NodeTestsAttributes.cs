using Xunit;

namespace Sparrow.TestSupport;

/// <summary>A fact over the ONNX node tests: skipped, never passed, when the folder is absent.</summary>
public sealed class NodeTestsFactAttribute : FactAttribute
{
    public NodeTestsFactAttribute()
    {
        if (SharedFolder.NodeTests is null) Skip = SharedFolder.NodeTestsMissingReason;
    }
}

/// <summary>A theory over the ONNX node tests: skipped, never passed, when the folder is absent.</summary>
public sealed class NodeTestsTheoryAttribute : TheoryAttribute
{
    public NodeTestsTheoryAttribute()
    {
        if (SharedFolder.NodeTests is null) Skip = SharedFolder.NodeTestsMissingReason;
    }
}
