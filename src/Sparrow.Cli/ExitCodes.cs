namespace Sparrow.Cli;

/// <summary>What the process's exit status means, for scripts.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The work ran but its result is negative (e.g. verify found outputs that differ).</summary>
    public const int Failure = 1;

    /// <summary>Bad usage or bad input: unknown option, missing or corrupt file, a model Sparrow cannot run.</summary>
    public const int BadInput = 2;
}
