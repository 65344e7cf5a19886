namespace Sparrow.Runtime;

/// <summary>A run that cannot proceed: bad inputs, or a node whose inputs it cannot handle. The message names the input or node.</summary>
public class InferenceException : Exception
{
    /// <summary>A run failed; <paramref name="message"/> names the node or input at fault.</summary>
    public InferenceException(string message) : base(message) { }

    /// <summary>As <see cref="InferenceException(string)"/>, keeping the error that caused it.</summary>
    public InferenceException(string message, Exception inner) : base(message, inner) { }
}
