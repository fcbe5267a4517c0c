// Whether qbnet's stderr is systemd's journal: systemd sets $JOURNAL_STREAM
// to the "DEVICE:INODE" of the stream it connected, and it counts only when
// that is stderr itself (a child whose stderr was redirected elsewhere
// inherits the variable). Linux only.
package dev.qbkit.qbnet.platform;

import java.nio.file.Files;
import java.nio.file.Path;

public final class Journal {
    private Journal() {
    }

    public static boolean stderrIsJournal() {
        String stream = System.getenv("JOURNAL_STREAM");
        if (stream == null || Platform.os() != Platform.Os.LINUX)
            return false;
        try {
            Path stderr = Path.of("/proc/self/fd/2");
            return matches(stream, (Long) Files.getAttribute(stderr, "unix:dev"),
                    (Long) Files.getAttribute(stderr, "unix:ino"));
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** {@code journalStream} ("DEVICE:INODE", decimal) names the file with this device and inode. */
    static boolean matches(String journalStream, long device, long inode) {
        int colon = journalStream.indexOf(':');
        if (colon <= 0)
            return false;
        try {
            return Long.parseUnsignedLong(journalStream.substring(0, colon)) == device
                    && Long.parseUnsignedLong(journalStream.substring(colon + 1)) == inode;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
