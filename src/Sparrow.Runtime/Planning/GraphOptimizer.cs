using Sparrow.Graph;
using Sparrow.Graph.Passes;

namespace Sparrow.Runtime.Planning;

/// <summary>
/// The passes a session runs before planning, in order: constant folding (which needs the runtime's
/// operators, so it lives here rather than in Sparrow.Graph), then the pattern fusions of Sparrow.Graph,
/// then removal of what no output needs. Works on a copy; the caller's model is left as it was.
/// </summary>
internal static class GraphOptimizer
{
    public static Model Optimize(Model model, SessionOptions options)
    {
        var copy = model.Clone();
        ConstantFolding.Run(copy, options);
        Fusions.Run(copy);
        DeadNodeElimination.Run(copy.Graph);
        return copy;
    }
}
