// A failure to report as one line (no stack trace) with a non-zero exit.
package dev.qbkit.qbnet.cli;

public final class CliError extends RuntimeException {
    public CliError(String message) {
        super(message, null, false, false);
    }
}
