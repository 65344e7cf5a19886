using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sparrow.Pruning;

/// <summary>
/// Turns a YAML recipe into JSON text whose every token stands on the same line as in the YAML, so that the one
/// JSON reader of <see cref="PruningRecipe"/> checks both and its errors name the YAML file's lines.
/// </summary>
internal static partial class YamlRecipeText
{
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    public static string ToJson(string yaml, string name)
    {
        var json = new StringBuilder();
        var line = 1;
        // Per open collection: is it a mapping, and how many nodes (keys and values) it has had so far.
        var open = new Stack<(bool Mapping, int Count)>();
        var documents = 0;
        var parser = new Parser(new StringReader(yaml));
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                switch (e)
                {
                    case DocumentStart:
                        if (++documents > 1)
                            throw new PruningRecipeException($"{name}: line {e.Start.Line}: a recipe is one YAML document, not several.", name, (int)e.Start.Line, null);
                        break;
                    case AnchorAlias:
                        throw new PruningRecipeException($"{name}: line {e.Start.Line}: YAML aliases are not supported in recipes.", name, (int)e.Start.Line, null);
                    case MappingStart or SequenceStart or Scalar:
                        Separate(e);
                        json.Append(e switch
                        {
                            MappingStart => "{",
                            SequenceStart => "[",
                            Scalar s when open.TryPeek(out var top) && top.Mapping && top.Count % 2 == 0 => JsonSerializer.Serialize(s.Value),
                            Scalar s => ScalarJson(s),
                            _ => "",
                        });
                        if (open.Count > 0) { var top = open.Pop(); open.Push((top.Mapping, top.Count + 1)); }
                        if (e is MappingStart) open.Push((true, 0));
                        if (e is SequenceStart) open.Push((false, 0));
                        break;
                    case MappingEnd or SequenceEnd:
                        MoveTo(e.Start.Line);
                        open.Pop();
                        json.Append(e is MappingEnd ? '}' : ']');
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            var message = e.InnerException?.Message ?? e.Message;
            throw new PruningRecipeException($"{name}: line {e.Start.Line}, column {e.Start.Column}: not valid YAML: {message}", name, (int)e.Start.Line, null);
        }
        return json.ToString();

        void Separate(ParsingEvent e)
        {
            if (open.TryPeek(out var top) && top.Count > 0)
                json.Append(top.Mapping && top.Count % 2 == 1 ? ':' : ',');
            MoveTo(e.Start.Line);
        }

        void MoveTo(long target)
        {
            while (line < target) { json.Append('\n'); line++; }
            json.Append(' ');
        }
    }

    private static string ScalarJson(Scalar scalar)
    {
        var text = scalar.Value;
        if (scalar.Style is not ScalarStyle.Plain) return JsonSerializer.Serialize(text);
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL": return "null";
            case "true" or "True" or "TRUE": return "true";
            case "false" or "False" or "FALSE": return "false";
        }
        if (JsonNumber().IsMatch(text)) return text;
        // YAML numbers JSON writes otherwise, e.g. .5 or +1.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            return number.ToString("R", CultureInfo.InvariantCulture);
        return JsonSerializer.Serialize(text);
    }
}
