// Logging flags shared by the commands: --log-level, -v, -q.
package dev.qbkit.qbnet.cli;

import picocli.CommandLine.Option;

public final class LogOptions {
    enum Level {
        error, warn, info, debug, trace
    }

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "error, warn, info, debug or trace (default: ${DEFAULT-VALUE}).")
    Level level;

    @Option(names = { "-v", "--verbose" }, description = "Same as --log-level debug.")
    boolean verbose;

    @Option(names = { "-q", "--quiet" }, description = "Same as --log-level warn.")
    boolean quiet;

    void apply() {
        Level effective = verbose ? Level.debug : quiet ? Level.warn : level;
        Logging.configure(effective.name());
    }
}
