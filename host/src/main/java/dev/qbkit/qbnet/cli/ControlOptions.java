// The --control option shared by `run`, `status` and `forward`.
package dev.qbkit.qbnet.cli;

import java.nio.file.Path;

import dev.qbkit.qbnet.platform.ControlPaths;
import picocli.CommandLine.Option;

public final class ControlOptions {
    @Option(names = "--control", paramLabel = "PATH",
            description = "Control socket of the running 'qbnet run' (default: $QBNET_CONTROL, "
                    + "$XDG_RUNTIME_DIR/qbnet/control.sock, /run/qbnet/control.sock as root, else ~/.qbnet/control.sock).")
    Path path;

    Path path() {
        return path != null ? path : ControlPaths.defaultPath();
    }
}
