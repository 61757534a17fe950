package io.vocodex;

/**
 * The one unchecked exception Vocodex throws for bad input: a corrupt model file, an unreadable
 * audio file, codes out of range, a closed codec. The message always names the thing at fault
 * (file, tensor, field) and the reason, so that a batch job can log it and move on.
 */
public class VocodexException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VocodexException(String message) {
        super(message);
    }

    public VocodexException(String message, Throwable cause) {
        super(message, cause);
    }
}
