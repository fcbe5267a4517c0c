// Library lookup order and the one-line hints of dev.qbkit.qbnet.platform.Platform, per OS.
package dev.qbkit.qbnet.usb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.platform.Platform;
import dev.qbkit.qbnet.platform.Platform.Os;

class PlatformTest {
    @Test
    void glibcMallocIsTunedOnLinux() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Platform.os() == Os.LINUX, "glibc only");
        assertTrue(Platform.tuneNativeMemory(), "mallopt accepted the mmap threshold and the arena cap");
    }

    @Test
    void recognisesOsNames() {
        assertEquals(Os.LINUX, Platform.os("Linux"));
        assertEquals(Os.MACOS, Platform.os("Mac OS X"));
        assertEquals(Os.WINDOWS, Platform.os("Windows 11"));
        assertEquals(Os.OTHER, Platform.os("FreeBSD"));
    }

    @Test
    void linuxLooksForTheRuntimePackageFirst() {
        assertEquals(List.of("libusb-1.0.so.0", "libusb-1.0.so"), Platform.libusbCandidates(Os.LINUX, null, null));
    }

    @Test
    void macosAlsoLooksInHomebrewPrefixes() {
        List<String> c = Platform.libusbCandidates(Os.MACOS, null, null);
        assertEquals("libusb-1.0.0.dylib", c.get(0));
        assertTrue(c.contains("/opt/homebrew/lib/libusb-1.0.0.dylib"), c.toString());
        assertTrue(c.contains("/usr/local/lib/libusb-1.0.0.dylib"), c.toString());
    }

    @Test
    void windowsLooksBesideTheJarThenOnThePath() {
        Path dir = Path.of("qbnet-dir");
        assertEquals(List.of(dir.resolve("libusb-1.0.dll").toString(), "libusb-1.0.dll"),
                Platform.libusbCandidates(Os.WINDOWS, null, dir));
    }

    @Test
    void anOverrideReplacesTheSearch() {
        for (Os os : Os.values())
            assertEquals(List.of("/opt/x/libusb.so"), Platform.libusbCandidates(os, "/opt/x/libusb.so", null));
        assertEquals(List.of("libusb-1.0.so.0", "libusb-1.0.so"), Platform.libusbCandidates(Os.LINUX, " ", null));
    }

    @Test
    void installHintsNameTheCommand() {
        assertTrue(Platform.libusbInstallHint(Os.LINUX).contains("apt install libusb-1.0-0"));
        assertTrue(Platform.libusbInstallHint(Os.MACOS).contains("brew install libusb"));
        assertTrue(Platform.libusbInstallHint(Os.WINDOWS).contains("libusb-1.0.dll"));
        assertTrue(Platform.libusbInstallHint(Os.WINDOWS).contains("libusb.info"));
        for (Os os : Os.values())
            assertTrue(Platform.libusbInstallHint(os).contains("-Dqbnet.libusb=PATH"));
    }

    @Test
    void accessDeniedOnLinuxNamesTheUdevRule() {
        String hint = Platform.accessDeniedHint(Os.LINUX, "1209:0001 at usb 1-2");
        assertTrue(hint.contains("1209:0001 at usb 1-2"), hint);
        assertTrue(hint.contains("sudo cp host/packaging/linux/60-qbnet.rules /etc/udev/rules.d/"), hint);
        assertTrue(hint.contains("udevadm control --reload"), hint);
        assertTrue(hint.contains("udevadm trigger"), hint);
        assertTrue(hint.contains("replug"), hint);
        assertTrue(java.nio.file.Files.isRegularFile(Path.of("packaging/linux/60-qbnet.rules")),
                "the rule the hint names is shipped");
    }
}
