using System.Reflection;
using Sparrow.Graph;

namespace Sparrow.Runtime.Operators;

/// <summary>Finds the operator class for a node: every <see cref="Operator"/> marked with <see cref="OnnxOperatorAttribute"/>.</summary>
public static class OperatorRegistry
{
    private static readonly Dictionary<(string Domain, string OpType), ConstructorInfo> Constructors = Discover();

    private static Dictionary<(string, string), ConstructorInfo> Discover()
    {
        var map = new Dictionary<(string, string), ConstructorInfo>();
        foreach (var type in typeof(Operator).Assembly.GetTypes())
        {
            if (type.IsAbstract || !typeof(Operator).IsAssignableFrom(type)) continue;
            foreach (var attribute in type.GetCustomAttributes<OnnxOperatorAttribute>())
            {
                var ctor = type.GetConstructor(new[] { typeof(Node), typeof(OperatorContext) })
                    ?? throw new InvalidOperationException($"{type.Name} needs a constructor (Node, OperatorContext).");
                map.Add((attribute.Domain, attribute.OpType), ctor);
            }
        }
        return map;
    }

    /// <summary>Op types Sparrow runs, as "domain:OpType" for other domains.</summary>
    public static IReadOnlyCollection<string> Supported =>
        Constructors.Keys.Select(k => k.Domain.Length == 0 ? k.OpType : $"{k.Domain}:{k.OpType}").Order().ToArray();

    /// <summary>Whether Sparrow runs <paramref name="opType"/> of <paramref name="domain"/> ("" for ai.onnx).</summary>
    public static bool IsSupported(string domain, string opType) => Constructors.ContainsKey((domain, opType));

    /// <summary>Compiles a node, or explains why it cannot (unknown op, unsupported attributes).</summary>
    internal static Operator Create(Node node, OperatorContext context)
    {
        if (!Constructors.TryGetValue((node.Domain, node.OpType), out var ctor))
        {
            var domain = node.Domain.Length == 0 ? "" : $" in domain '{node.Domain}'";
            throw new ModelException($"node {node.DisplayName}: operator '{node.OpType}'{domain} is not supported by Sparrow.");
        }
        try
        {
            return (Operator)ctor.Invoke(new object[] { node, context });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            var inner = e.InnerException;
            if (inner is ModelException) throw inner;
            throw new ModelException($"node {node.DisplayName}: {inner.Message}", inner);
        }
    }
}
