using Sparrow.TestSupport;
using Xunit.Abstractions;

namespace Sparrow.Conformance.Tests;

public sealed class NodeTests(ITestOutputHelper output)
{
    [NodeTestsTheory]
    [MemberData(nameof(NodeTestCases.ClaimedData), MemberType = typeof(NodeTestCases))]
    public void Case(string caseName)
    {
        var (outcome, message) = NodeTestRunner.Run(caseName);
        var listedReason = UnsupportedCases.ReasonFor(caseName);
        if (listedReason is not null)
        {
            Assert.True(outcome == CaseOutcome.Unsupported,
                $"{caseName} is listed as unsupported ({listedReason}) but its outcome is {outcome}: {message}");
            return;
        }
        Assert.True(outcome == CaseOutcome.Passed, $"{caseName}: {outcome}: {message}");
    }

    /// <summary>The count passed / failed / unsupported, printed for the log; fails when any case fails.</summary>
    [NodeTestsFact]
    public void Summary()
    {
        int passed = 0, failed = 0, unsupported = 0;
        var failures = new List<string>();
        foreach (var caseName in NodeTestCases.Claimed)
        {
            var (outcome, message) = NodeTestRunner.Run(caseName);
            var listed = UnsupportedCases.ReasonFor(caseName) is not null;
            if (outcome == CaseOutcome.Passed && !listed) passed++;
            else if (outcome == CaseOutcome.Unsupported && listed) unsupported++;
            else
            {
                failed++;
                failures.Add($"{caseName}: {outcome}: {message}");
            }
        }
        var line = $"ONNX node tests of claimed operators: {passed} passed, {failed} failed, {unsupported} unsupported (of {NodeTestCases.Claimed.Count})";
        output.WriteLine(line);
        Console.WriteLine(line);
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(failed == 0, line + Environment.NewLine + string.Join(Environment.NewLine, failures));
    }
}
