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
        Logging.configure(effective().name());
    }

    private Level effective() {
        return verbose ? Level.debug : quiet ? Level.warn : level;
    }

    /** libusb's own stderr logging to go with ours: none, its warnings at debug, all of it at trace. */
    int libusbLogLevel() {
        return switch (effective()) {
            case trace -> 4; // LIBUSB_LOG_LEVEL_DEBUG
            case debug -> 2; // LIBUSB_LOG_LEVEL_WARNING
            default -> 0; // LIBUSB_LOG_LEVEL_NONE
        };
    }
}
