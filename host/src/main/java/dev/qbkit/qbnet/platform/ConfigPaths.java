// Where qbnet looks for its configuration files, per OS: a system-wide one
// and a per-user one that overrides it (README "Configuration file").
// Linux and other Unixes: /etc/qbnet/qbnet.conf, then
// $XDG_CONFIG_HOME/qbnet/qbnet.conf (default ~/.config); macOS:
// /etc/qbnet/qbnet.conf, then ~/Library/Application Support/qbnet/qbnet.conf;
// Windows: %PROGRAMDATA%\qbnet\qbnet.conf, then %APPDATA%\qbnet\qbnet.conf.
package dev.qbkit.qbnet.platform;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

public final class ConfigPaths {
    public static final String FILE = "qbnet.conf";

    private ConfigPaths() {
    }

    /** The files in the order they are read (later ones override earlier ones), for this process. */
    public static List<Path> defaults() {
        return defaults(Platform.os(), System::getenv, System.getProperty("user.home", "."));
    }

    public static List<Path> defaults(Platform.Os os, Function<String, String> env, String home) {
        return switch (os) {
            case WINDOWS -> List.of(Path.of(orElse(env.apply("PROGRAMDATA"), "C:\\ProgramData"), "qbnet", FILE),
                    Path.of(orElse(env.apply("APPDATA"), home + "\\AppData\\Roaming"), "qbnet", FILE));
            case MACOS -> List.of(Path.of("/etc/qbnet", FILE),
                    Path.of(home, "Library", "Application Support", "qbnet", FILE));
            case LINUX, OTHER -> List.of(Path.of("/etc/qbnet", FILE),
                    Path.of(orElse(absolute(env.apply("XDG_CONFIG_HOME")), home + "/.config"), "qbnet", FILE));
        };
    }

    private static String orElse(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }

    /** The XDG base directory spec: a relative $XDG_CONFIG_HOME is invalid and ignored. */
    private static String absolute(String value) {
        return value != null && value.startsWith("/") ? value : null;
    }
}
