using System.Collections;
using System.CommandLine;

namespace Sparrow.Cli;

/// <summary>
/// Makes <c>--help</c> give every option's default. System.CommandLine prints <c>[default: x]</c> for options with a
/// default value; options without one (a file that is only written when asked for, a filter that is off) or whose
/// default is empty (repeatable options) would show nothing, so they get <c>[default: none]</c> unless their own
/// description already says what the default is.
/// </summary>
internal static class HelpDefaults
{
    public static void Apply(Command command)
    {
        foreach (var option in command.Options)
        {
            if (option.Required || option.Hidden || option.ValueType == typeof(bool) || option.Name == "--help") continue;
            if (option.Description?.Contains("default", StringComparison.OrdinalIgnoreCase) == true) continue;
            if (option.HasDefaultValue && option.GetDefaultValue() is { } value && !(value is IEnumerable items and not string && !items.GetEnumerator().MoveNext())) continue;
            option.Description = (option.Description ?? "").TrimEnd() + " [default: none]";
        }
        foreach (var sub in command.Subcommands) Apply(sub);
    }
}
