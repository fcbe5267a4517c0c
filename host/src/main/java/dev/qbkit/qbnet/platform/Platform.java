// Everything that differs between Linux, macOS and Windows: where libusb-1.0
// is looked for and how to install it, and what to tell a user who may not
// open a USB device. The rest of qbnet asks here instead of testing os.name.
package dev.qbkit.qbnet.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
public final class Platform {
    public enum Os {
        LINUX, MACOS, WINDOWS, OTHER
    }

    /** System property naming the libusb-1.0 library file to load; wins over the environment variable. */
    public static final String LIBUSB_PROPERTY = "qbnet.libusb";
    public static final String LIBUSB_ENV = "QBNET_LIBUSB";
    /** The udev rule shipped with qbnet, relative to the repository (and packaged next to the jar). */
    public static final String UDEV_RULE = "host/packaging/linux/60-qbnet.rules";

    /** libusb-1.0 could not be loaded; the message is one line that names the fix. */
    public static final class LibraryMissing extends Exception {
        LibraryMissing(String message) {
            super(message, null, false, false);
        }
    }

    private static SymbolLookup libusb;

    private Platform() {
    }

    public static Os os() {
        return os(System.getProperty("os.name", ""));
    }

    public static Os os(String osName) {
        String n = osName.toLowerCase(Locale.ROOT);
        if (n.startsWith("linux"))
            return Os.LINUX;
        if (n.startsWith("mac") || n.startsWith("darwin"))
            return Os.MACOS;
        if (n.startsWith("windows"))
            return Os.WINDOWS;
        return Os.OTHER;
    }

    /**
     * Where to look for libusb-1.0, in order: names go through the system's
     * loader search path, paths are loaded as they are. {@code override} (the
     * property or environment variable, may be null) replaces the list;
     * {@code besideJar} is the directory qbnet.jar is in (may be null).
     */
    public static List<String> libusbCandidates(Os os, String override, Path besideJar) {
        if (override != null && !override.isBlank())
            return List.of(override);
        List<String> c = new ArrayList<>();
        switch (os) {
            case LINUX, OTHER -> {
                c.add("libusb-1.0.so.0");
                c.add("libusb-1.0.so");
            }
            case MACOS -> {
                // The loader does not search Homebrew's prefixes, so they are named.
                c.add("libusb-1.0.0.dylib");
                c.add("/opt/homebrew/lib/libusb-1.0.0.dylib");
                c.add("/usr/local/lib/libusb-1.0.0.dylib");
                c.add("/opt/local/lib/libusb-1.0.0.dylib");
                c.add("libusb-1.0.dylib");
            }
            case WINDOWS -> {
                if (besideJar != null)
                    c.add(besideJar.resolve("libusb-1.0.dll").toString());
                c.add("libusb-1.0.dll");
            }
        }
        return c;
    }

    /** How to get libusb-1.0 on this OS, as the end of an error line. */
    public static String libusbInstallHint(Os os) {
        return switch (os) {
            case LINUX -> "install it: 'sudo apt install libusb-1.0-0' (Debian, Ubuntu), 'sudo dnf install libusb1' (Fedora)";
            case MACOS -> "install it: 'brew install libusb'";
            case WINDOWS -> "download libusb-1.0.dll (VS2022 x64 build) from https://libusb.info and put it next to qbnet.jar or on PATH";
            case OTHER -> "install libusb-1.0 with your system's package manager";
        } + ", or name the library file with -D" + LIBUSB_PROPERTY + "=PATH or " + LIBUSB_ENV + "=PATH";
    }

    // glibc's mallopt() parameters (malloc.h).
    private static final int M_MMAP_THRESHOLD = -3;
    private static final int M_ARENA_MAX = -8;
    static final int MMAP_THRESHOLD = 128 * 1024;
    static final int ARENA_MAX = 4;

    /**
     * Keeps a long-running qbnet's native memory flat across board attach
     * and detach on glibc (Linux): every board gets a new loop thread, and
     * glibc would give those threads new malloc arenas (up to 8 per core)
     * and, once a 256 KiB bundle buffer had been freed, raise its mmap
     * threshold so the next ones are carved from those arenas and never
     * returned. A fixed threshold and a few arenas keep bundle buffers on
     * mmap, handed back to the OS when freed. Returns whether it applied:
     * not on other systems or C libraries (no mallopt), where nothing is done.
     */
    public static boolean tuneNativeMemory() {
        if (os() != Os.LINUX)
            return false;
        Linker linker = Linker.nativeLinker();
        var mallopt = linker.defaultLookup().find("mallopt");
        if (mallopt.isEmpty())
            return false;
        MethodHandle call = linker.downcallHandle(mallopt.get(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        try {
            int threshold = (int) call.invokeExact(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            int arenas = (int) call.invokeExact(M_ARENA_MAX, ARENA_MAX);
            return threshold == 1 && arenas == 1;
        } catch (Throwable e) {
            return false;
        }
    }

    /**
     * Loads libusb-1.0 once for the life of the process (it is never
     * unloaded: libusb keeps threads and state of its own).
     */
    public static synchronized SymbolLookup libusb() throws LibraryMissing {
        if (libusb != null)
            return libusb;
        Os os = os();
        String property = System.getProperty(LIBUSB_PROPERTY);
        String override = property != null ? property : System.getenv(LIBUSB_ENV);
        List<String> candidates = libusbCandidates(os, override, jarDirectory());
        List<String> failures = new ArrayList<>();
        for (String candidate : candidates) {
            // A path that is not there is not handed to the JVM: dlopen of a missing file makes
            // HotSpot print a two-line "might have disabled stack guard" warning before our error.
            if (isPath(candidate) && !Files.isRegularFile(Path.of(candidate))) {
                failures.add(candidate);
                continue;
            }
            try {
                libusb = isPath(candidate) ? SymbolLookup.libraryLookup(Path.of(candidate), Arena.global())
                        : SymbolLookup.libraryLookup(candidate, Arena.global());
                return libusb;
            } catch (IllegalArgumentException e) {
                failures.add(candidate);
            }
        }
        if (override != null && !override.isBlank())
            throw new LibraryMissing("cannot load libusb-1.0 from " + override + " (set by "
                    + (property != null ? "-D" + LIBUSB_PROPERTY : LIBUSB_ENV) + "): point it at libusb-1.0's library file, "
                    + "or unset it to use the system's");
        throw new LibraryMissing("libusb-1.0 is not installed (tried " + String.join(", ", failures) + "): "
                + libusbInstallHint(os));
    }

    private static boolean isPath(String candidate) {
        return candidate.indexOf('/') >= 0 || candidate.indexOf('\\') >= 0;
    }

    private static Path jarDirectory() {
        try {
            var source = Platform.class.getProtectionDomain().getCodeSource();
            if (source == null)
                return null;
            Path p = Path.of(source.getLocation().toURI());
            return Files.isRegularFile(p) ? p.getParent() : p;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * The fix for "permission denied" opening {@code device}
     * ("1209:0001 at usb 1-2"), as one line.
     */
    public static String accessDeniedHint(Os os, String device) {
        return switch (os) {
            case LINUX -> "no permission to open " + device + ": install qbnet's udev rule "
                    + "('sudo cp " + UDEV_RULE + " /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger'), "
                    + "then unplug and replug the board (or run qbnet as root)";
            case WINDOWS -> "no access to " + device + ": another program has it open, or WinUSB is not its driver "
                    + "(the board's MS OS descriptors install WinUSB on Windows 8+; check Device Manager, or bind WinUSB with Zadig)";
            case MACOS -> "no access to " + device + ": another program has it open (quit it), or a kernel driver claimed it";
            case OTHER -> "no permission to open " + device + ": give your user access to the USB device node";
        };
    }

    /** What "busy" means when claiming the interface of {@code device}. */
    public static String busyHint(String device) {
        return device + " is in use by another program (another 'qbnet run' or 'qbnet link-test'?): stop it first";
    }
}
