namespace Sparrow.Runtime;

/// <summary>A run that cannot proceed: bad inputs, or a node whose inputs it cannot handle. The message names the input or node.</summary>
public class InferenceException : Exception
{
    public InferenceException(string message) : base(message) { }

    public InferenceException(string message, Exception inner) : base(message, inner) { }
}
