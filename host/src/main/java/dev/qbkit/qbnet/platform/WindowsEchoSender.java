// Relays a board's pings on Windows through the ICMP helper API (iphlpapi:
// IcmpSendEcho for IPv4, Icmp6SendEcho2 for IPv6), which needs no privileges.
// The calls block, so they run on one worker thread per board, bounded; the
// handles are closed on that thread too, after the call that may be using them.
package dev.qbkit.qbnet.platform;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_CHAR;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.nat.EchoSender;

final class WindowsEchoSender implements EchoSender {
    private static final Logger log = LoggerFactory.getLogger(WindowsEchoSender.class);
    static final int TIMEOUT_MS = 4000;
    static final int REPLY_SIZE = 65536 + 128;
    private static final short AF_INET6 = 23;

    /** The iphlpapi calls this sender makes: IcmpApi.WINDOWS on Windows, a fake in tests. */
    interface IcmpApi {
        /** IcmpCreateFile / Icmp6CreateFile: a handle, or NULL / INVALID_HANDLE_VALUE. */
        MemorySegment create(boolean ipv6) throws Throwable;

        /** IcmpSendEcho: the number of replies in {@code reply}. Blocks up to {@code timeoutMillis}. */
        int send4(MemorySegment handle, int address, MemorySegment data, int size, MemorySegment reply, int replySize,
                int timeoutMillis) throws Throwable;

        /** Icmp6SendEcho2 without an event or APC (synchronous). Blocks up to {@code timeoutMillis}. */
        int send6(MemorySegment handle, MemorySegment source, MemorySegment destination, MemorySegment data, int size,
                MemorySegment reply, int replySize, int timeoutMillis) throws Throwable;

        /** IcmpCloseHandle. */
        void close(MemorySegment handle) throws Throwable;
    }

    private final IcmpApi api;
    private final Executor loop;
    private final Replies replies;
    private final ThreadPoolExecutor worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(64), r -> Thread.ofPlatform().daemon().name("icmp-echo").unstarted(r));
    private MemorySegment handle4;
    private MemorySegment handle6;
    private boolean closed;

    WindowsEchoSender(Executor loop, Replies replies) {
        this(Iphlpapi.API, loop, replies);
    }

    WindowsEchoSender(IcmpApi api, Executor loop, Replies replies) {
        this.api = api;
        this.loop = loop;
        this.replies = replies;
    }

    @Override
    public synchronized boolean available(boolean ipv6) {
        if (closed)
            return false;
        try {
            if (ipv6 && handle6 == null)
                handle6 = api.create(true);
            if (!ipv6 && handle4 == null)
                handle4 = api.create(false);
        } catch (Throwable e) {
            log.warn("the Windows ICMP API is not usable: {}", e.toString());
            return false;
        }
        return usable(ipv6 ? handle6 : handle4);
    }

    private static boolean usable(MemorySegment handle) {
        return handle != null && handle.address() != 0 && handle.address() != -1;
    }

    @Override
    public void send(byte[] board, InetAddress destination, int identifier, int sequence, byte[] payload) {
        boolean ipv6 = destination.getAddress().length == 16;
        MemorySegment handle;
        synchronized (this) {
            if (!available(ipv6))
                return;
            handle = ipv6 ? handle6 : handle4;
        }
        try {
            worker.execute(() -> echo(handle, board, destination, ipv6, identifier, sequence, payload));
        } catch (RejectedExecutionException e) {
            log.debug("ping to {} dropped: too many in flight, or closing", destination.getHostAddress());
        }
    }

    /** On the worker thread: one blocking call, then the reply to the board's loop. */
    private void echo(MemorySegment handle, byte[] board, InetAddress destination, boolean ipv6, int identifier,
            int sequence, byte[] payload) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocateFrom(JAVA_BYTE, payload);
            MemorySegment reply = a.allocate(REPLY_SIZE, 8);
            byte[] answer;
            if (ipv6) {
                MemorySegment source = a.allocate(28); // sockaddr_in6: AF_INET6, the unspecified source
                source.set(JAVA_SHORT, 0, AF_INET6);
                MemorySegment target = a.allocate(28);
                target.set(JAVA_SHORT, 0, AF_INET6);
                MemorySegment.copy(destination.getAddress(), 0, target, JAVA_BYTE, 8, 16);
                int n = api.send6(handle, source, target, data, payload.length, reply, REPLY_SIZE, TIMEOUT_MS);
                answer = n == 0 ? null : WindowsEchoReply.v6Payload(reply, payload.length);
            } else {
                int address = MemorySegment.ofArray(destination.getAddress())
                        .get(JAVA_INT.withOrder(ByteOrder.nativeOrder()), 0);
                int n = api.send4(handle, address, data, payload.length, reply, REPLY_SIZE, TIMEOUT_MS);
                answer = n == 0 ? null : WindowsEchoReply.v4Payload(reply);
            }
            if (answer != null)
                loop.execute(() -> replies.onEchoReply(board, destination, identifier, sequence, answer));
        } catch (Throwable e) {
            log.debug("ping to {} failed: {}", destination.getHostAddress(), e.toString());
        }
    }

    /**
     * Pings not started are dropped; the handles are closed on the worker,
     * after the call in flight (if any) has returned, never under it.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed)
                return;
            closed = true;
        }
        worker.getQueue().clear();
        try {
            worker.execute(this::closeHandles);
        } catch (RejectedExecutionException e) {
            closeHandles(); // no worker left to wait for
        }
        worker.shutdown();
    }

    private synchronized void closeHandles() {
        for (MemorySegment h : new MemorySegment[] { handle4, handle6 }) {
            if (!usable(h))
                continue;
            try {
                api.close(h);
            } catch (Throwable e) {
                log.debug("IcmpCloseHandle: {}", e.toString());
            }
        }
        handle4 = null;
        handle6 = null;
    }

    /** iphlpapi.dll, bound at first use (only ever on Windows). */
    // Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
    @SuppressWarnings("restricted")
    static final class Iphlpapi implements IcmpApi {
        static final IcmpApi API = new Iphlpapi();
        private final MethodHandle create4;
        private final MethodHandle create6;
        private final MethodHandle send4;
        private final MethodHandle send6;
        private final MethodHandle close;

        private Iphlpapi() {
            Linker linker = Linker.nativeLinker();
            SymbolLookup dll = SymbolLookup.libraryLookup("iphlpapi.dll", Arena.global());
            create4 = linker.downcallHandle(dll.findOrThrow("IcmpCreateFile"), FunctionDescriptor.of(ADDRESS));
            create6 = linker.downcallHandle(dll.findOrThrow("Icmp6CreateFile"), FunctionDescriptor.of(ADDRESS));
            close = linker.downcallHandle(dll.findOrThrow("IcmpCloseHandle"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
            // DWORD IcmpSendEcho(HANDLE, IPAddr, LPVOID data, WORD size, PIP_OPTION_INFORMATION, LPVOID reply,
            //                    DWORD size, DWORD timeout); WORD is unsigned: JAVA_CHAR, zero-extended.
            send4 = linker.downcallHandle(dll.findOrThrow("IcmpSendEcho"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                    JAVA_INT, ADDRESS, JAVA_CHAR, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
            // DWORD Icmp6SendEcho2(HANDLE, HANDLE event, PIO_APC_ROUTINE, PVOID, sockaddr_in6 *src,
            //                      sockaddr_in6 *dst, LPVOID data, WORD size, PIP_OPTION_INFORMATION, LPVOID reply,
            //                      DWORD size, DWORD timeout)
            send6 = linker.downcallHandle(dll.findOrThrow("Icmp6SendEcho2"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_CHAR, ADDRESS, ADDRESS, JAVA_INT,
                    JAVA_INT));
        }

        @Override
        public MemorySegment create(boolean ipv6) throws Throwable {
            return ipv6 ? (MemorySegment) create6.invokeExact() : (MemorySegment) create4.invokeExact();
        }

        @Override
        public int send4(MemorySegment handle, int address, MemorySegment data, int size, MemorySegment reply,
                int replySize, int timeoutMillis) throws Throwable {
            return (int) send4.invokeExact(handle, address, data, (char) size, MemorySegment.NULL, reply, replySize,
                    timeoutMillis);
        }

        @Override
        public int send6(MemorySegment handle, MemorySegment source, MemorySegment destination, MemorySegment data,
                int size, MemorySegment reply, int replySize, int timeoutMillis) throws Throwable {
            return (int) send6.invokeExact(handle, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, source,
                    destination, data, (char) size, MemorySegment.NULL, reply, replySize, timeoutMillis);
        }

        @Override
        public void close(MemorySegment handle) throws Throwable {
            if ((int) close.invokeExact(handle) == 0)
                log.debug("IcmpCloseHandle refused a handle");
        }
    }
}
