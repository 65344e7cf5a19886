namespace Sparrow.Cli;

/// <summary>A command line or an input file that a command cannot use; its message says what to change.</summary>
public sealed class UsageException(string message) : Exception(message);
