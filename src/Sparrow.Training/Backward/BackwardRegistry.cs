using System.Reflection;
using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Finds the backward rule for a node: every <see cref="BackwardRule"/> marked with <see cref="BackwardRuleAttribute"/>.</summary>
internal static class BackwardRegistry
{
    private static readonly Dictionary<(string Domain, string OpType), ConstructorInfo> Constructors = Discover();

    private static Dictionary<(string, string), ConstructorInfo> Discover()
    {
        var map = new Dictionary<(string, string), ConstructorInfo>();
        foreach (var type in typeof(BackwardRule).Assembly.GetTypes())
        {
            if (type.IsAbstract || !typeof(BackwardRule).IsAssignableFrom(type)) continue;
            foreach (var attribute in type.GetCustomAttributes<BackwardRuleAttribute>())
            {
                var ctor = type.GetConstructor(new[] { typeof(Node), typeof(OperatorContext) })
                    ?? throw new InvalidOperationException($"{type.Name} needs a constructor (Node, OperatorContext).");
                map.Add((attribute.Domain, attribute.OpType), ctor);
            }
        }
        return map;
    }

    /// <summary>Op types with a backward rule, as "domain:OpType" for other domains.</summary>
    public static IReadOnlyCollection<string> Supported =>
        Constructors.Keys.Select(k => k.Domain.Length == 0 ? k.OpType : $"{k.Domain}:{k.OpType}").Order().ToArray();

    /// <summary>Whether a node of this type can be differentiated.</summary>
    public static bool IsSupported(string domain, string opType) => Constructors.ContainsKey((domain, opType));

    /// <summary>Compiles the rule for a node, or says that its operator cannot be trained through.</summary>
    public static BackwardRule Create(Node node, OperatorContext context)
    {
        if (!Constructors.TryGetValue((node.Domain, node.OpType), out var ctor))
        {
            var domain = node.Domain.Length == 0 ? "" : $" in domain '{node.Domain}'";
            throw new ModelException($"node {node.DisplayName}: operator '{node.OpType}'{domain} has no backward rule, so gradients cannot flow through it.");
        }
        try
        {
            return (BackwardRule)ctor.Invoke(new object[] { node, context });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new ModelException($"node {node.DisplayName}: {e.InnerException.Message}", e.InnerException);
        }
    }
}
