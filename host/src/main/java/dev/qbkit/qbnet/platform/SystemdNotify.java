// sd_notify for `qbnet run` under systemd (Type=notify): READY=1 once qbnet
// listens, STOPPING=1 when it stops, as one datagram each to $NOTIFY_SOCKET
// (an AF_UNIX datagram socket, which Java's channels cannot send to, so
// through FFM's socket/sendto). Linux only; without $NOTIFY_SOCKET, and on
// other systems, it does nothing.
package dev.qbkit.qbnet.platform;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
public final class SystemdNotify {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotify.class);
    static final int AF_UNIX = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 02000000;
    static final int MSG_NOSIGNAL = 0x4000;
    /** sizeof(struct sockaddr_un): sa_family_t then char sun_path[108]. */
    static final int SOCKADDR_UN_SIZE = 110;
    static final int SUN_PATH_MAX = 108;

    private SystemdNotify() {
    }

    /** Tells systemd that qbnet is serving; {@code status} is shown by systemctl status. */
    public static void ready(String status) {
        notify("READY=1\nSTATUS=" + status.replace('\n', ' '));
    }

    /** Tells systemd that qbnet is stopping. */
    public static void stopping() {
        notify("STOPPING=1\nSTATUS=stopping");
    }

    /** Sends {@code message} to $NOTIFY_SOCKET; a failure is logged, never thrown (systemd then times out on its own). */
    static void notify(String message) {
        String socket = System.getenv("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty() || Platform.os() != Platform.Os.LINUX)
            return;
        String error = send(socket, message);
        if (error != null)
            log.warn("cannot notify systemd at NOTIFY_SOCKET={}: {}", socket, error);
        else
            log.debug("told systemd {}", message.replace('\n', ' '));
    }

    /**
     * Sends one datagram to the AF_UNIX socket {@code path} ("@name" is in
     * the abstract namespace); null on success, else why not.
     */
    public static String send(String path, String message) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH_MAX || (path.charAt(0) != '/' && path.charAt(0) != '@'))
            return "not an absolute path or @name of at most " + (SUN_PATH_MAX - 1) + " bytes";
        byte[] payload = message.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            MemorySegment address = sockaddr(arena, name);
            // An abstract name is exactly its bytes; a path carries its terminating NUL.
            int length = 2 + name.length + (name[0] == '@' ? 0 : 1);
            int fd = (int) Native.SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                return "socket: errno " + Native.errno(state);
            try {
                MemorySegment data = arena.allocateFrom(JAVA_BYTE, payload);
                long sent = (long) Native.SENDTO.invokeExact(state, fd, data, (long) payload.length, MSG_NOSIGNAL,
                        address, length);
                if (sent < 0)
                    return "sendto: errno " + Native.errno(state);
                return sent == payload.length ? null : "sendto sent " + sent + " of " + payload.length + " bytes";
            } finally {
                int closed = (int) Native.CLOSE.invokeExact(state, fd);
                if (closed != 0)
                    log.debug("close of the notify socket: errno {}", Native.errno(state));
            }
        } catch (Throwable e) {
            return e.toString();
        }
    }

    /** A struct sockaddr_un for {@code name} ('@' first: the abstract namespace, a NUL byte). */
    static MemorySegment sockaddr(Arena arena, byte[] name) {
        MemorySegment address = arena.allocate(SOCKADDR_UN_SIZE, 2);
        address.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, address, JAVA_BYTE, 2, name.length);
        if (name[0] == '@')
            address.set(JAVA_BYTE, 2, (byte) 0);
        return address;
    }

    /** libc's socket calls, linked on first use (never on systems without $NOTIFY_SOCKET). */
    static final class Native {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle SENDTO = libc("sendto",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

        private Native() {
        }

        static MethodHandle libc(String name, FunctionDescriptor descriptor) {
            MemorySegment symbol = LINKER.defaultLookup().find(name)
                    .orElseThrow(() -> new IllegalStateException("libc has no " + name));
            return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
        }

        static int errno(MemorySegment state) {
            return (int) ERRNO.get(state, 0L);
        }
    }
}
