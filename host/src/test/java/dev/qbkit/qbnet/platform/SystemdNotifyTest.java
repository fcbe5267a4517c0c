// sd_notify through FFM: a datagram socket of the test's own (bound like
// systemd's, by path and in the abstract namespace) receives READY=1; a
// socket that is not there is an error line, not an exception; and stderr's
// journal check compares device and inode.
package dev.qbkit.qbnet.platform;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SuppressWarnings("restricted")
class SystemdNotifyTest {
    private static final int MSG_DONTWAIT = 0x40;

    @TempDir
    Path dir;

    /** A bound AF_UNIX datagram socket standing in for systemd's notify socket. */
    private static final class Receiver implements AutoCloseable {
        static final MethodHandle BIND = SystemdNotify.Native.libc("bind",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle RECV = SystemdNotify.Native.libc("recv",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        final Arena arena = Arena.ofConfined();
        final MemorySegment state = arena.allocate(SystemdNotify.Native.CAPTURE);
        final int fd;

        Receiver(String name) throws Throwable {
            fd = (int) SystemdNotify.Native.SOCKET.invokeExact(state, SystemdNotify.AF_UNIX, SystemdNotify.SOCK_DGRAM, 0);
            assertTrue(fd >= 0, "socket");
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            int rc = (int) BIND.invokeExact(state, fd, SystemdNotify.sockaddr(arena, bytes),
                    2 + bytes.length + (name.startsWith("@") ? 0 : 1));
            assertEquals(0, rc, "bind " + name + ": errno " + SystemdNotify.Native.errno(state));
        }

        /** The datagram waiting, or null. */
        String receive() throws Throwable {
            MemorySegment buf = arena.allocate(4096);
            long n = (long) RECV.invokeExact(state, fd, buf, 4096L, MSG_DONTWAIT);
            return n < 0 ? null : new String(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            try {
                int rc = (int) SystemdNotify.Native.CLOSE.invokeExact(state, fd);
                assertEquals(0, rc);
            } catch (Throwable e) {
                throw new AssertionError(e);
            } finally {
                arena.close();
            }
        }
    }

    @Test
    void readyReachesASocketBoundByPath() throws Throwable {
        assumeTrue(Platform.os() == Platform.Os.LINUX);
        String path = dir.resolve("notify").toString();
        try (Receiver systemd = new Receiver(path)) {
            assertNull(SystemdNotify.send(path, "READY=1\nSTATUS=serving boards on usb"));
            assertEquals("READY=1\nSTATUS=serving boards on usb", systemd.receive());
            assertNull(SystemdNotify.send(path, "STOPPING=1"));
            assertEquals("STOPPING=1", systemd.receive());
            assertNull(systemd.receive(), "one datagram each");
        }
    }

    @Test
    void readyReachesAnAbstractSocket() throws Throwable {
        assumeTrue(Platform.os() == Platform.Os.LINUX);
        String name = "@qbnet-notify-test-" + ProcessHandle.current().pid();
        try (Receiver systemd = new Receiver(name)) {
            assertNull(SystemdNotify.send(name, "READY=1"));
            assertEquals("READY=1", systemd.receive());
        }
    }

    @Test
    void aMissingOrBadSocketIsAnErrorLine() {
        assumeTrue(Platform.os() == Platform.Os.LINUX);
        assertEquals("sendto: errno 2", SystemdNotify.send(dir.resolve("nobody").toString(), "READY=1"));
        assertTrue(SystemdNotify.send("relative/path", "READY=1").startsWith("not an absolute path"));
        assertTrue(SystemdNotify.send("/" + "x".repeat(200), "READY=1").startsWith("not an absolute path"));
    }

    @Test
    void theJournalIsStderrOnlyWhenDeviceAndInodeMatch() {
        assertTrue(Journal.matches("64768:1234567", 64768, 1234567));
        assertFalse(Journal.matches("64768:1234567", 64768, 1234568));
        assertFalse(Journal.matches("64769:1234567", 64768, 1234567));
        assertFalse(Journal.matches("garbage", 1, 1));
        assertFalse(Journal.matches(":1", 0, 1));
        assertFalse(Journal.matches("1:", 1, 0));
    }
}
