// The --config FILE and --no-config flags every command takes. Main reads them
// from the raw arguments before parsing (the files supply picocli's default
// values); here they are declared for --help and remembered for the log.
package dev.qbkit.qbnet.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

public final class ConfigOptions {
    private static volatile ConfigFile loaded = ConfigFile.empty();

    @Option(names = "--config", paramLabel = "FILE",
            description = "Read settings from FILE instead of /etc/qbnet/qbnet.conf and the per-user qbnet.conf "
                    + "(KEY = VALUE lines, KEY a long flag without '--'; flags on the command line win).")
    Path file;

    @Option(names = "--no-config", description = "Read no configuration file.")
    boolean none;

    public static void setLoaded(ConfigFile config) {
        loaded = config;
    }

    /** The configuration this process runs with. */
    public static ConfigFile loaded() {
        return loaded;
    }
}
