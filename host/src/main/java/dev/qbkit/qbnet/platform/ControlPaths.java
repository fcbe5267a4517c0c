// Where a running `qbnet run` puts its control socket by default, per OS and
// user: $QBNET_CONTROL, else $XDG_RUNTIME_DIR/qbnet/control.sock, else
// /run/qbnet/control.sock for root on Linux, else ~/.qbnet/control.sock
// (%LOCALAPPDATA%\qbnet\control.sock on Windows).
package dev.qbkit.qbnet.platform;

import java.nio.file.Path;

public final class ControlPaths {
    private ControlPaths() {
    }

    public static Path defaultPath() {
        String override = System.getenv("QBNET_CONTROL");
        if (override != null && !override.isBlank())
            return Path.of(override);
        if (Platform.os() == Platform.Os.WINDOWS) {
            String local = System.getenv("LOCALAPPDATA");
            return Path.of(local != null ? local : System.getProperty("user.home"), "qbnet", "control.sock");
        }
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank())
            return Path.of(runtime, "qbnet", "control.sock");
        if (Platform.os() == Platform.Os.LINUX && "root".equals(System.getProperty("user.name")))
            return Path.of("/run/qbnet/control.sock");
        return Path.of(System.getProperty("user.home"), ".qbnet", "control.sock");
    }
}
