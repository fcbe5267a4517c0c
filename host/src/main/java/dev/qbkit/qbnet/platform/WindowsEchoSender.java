// Relays a board's pings on Windows through the ICMP helper API (iphlpapi:
// IcmpSendEcho for IPv4, Icmp6SendEcho2 for IPv6), which needs no privileges.
// The calls block, so they run on one worker thread per board, bounded.
package dev.qbkit.qbnet.platform;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
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

// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
final class WindowsEchoSender implements EchoSender {
    private static final Logger log = LoggerFactory.getLogger(WindowsEchoSender.class);
    private static final int TIMEOUT_MS = 4000;
    private static final int REPLY_SIZE = 65536 + 128;
    /** ICMP_ECHO_REPLY on 64-bit Windows: Status at 4, DataSize at 12, Data pointer at 16; 40 bytes. */
    private static final long V4_STATUS = 4;
    private static final long V4_DATA_SIZE = 12;
    private static final long V4_DATA = 16;
    /** ICMPV6_ECHO_REPLY: packed IPV6_ADDRESS_EX (26 bytes), Status, RoundTripTime; the data follows at 36. */
    private static final long V6_STATUS = 26;
    private static final long V6_DATA = 36;

    private static final MethodHandle CREATE4;
    private static final MethodHandle CREATE6;
    private static final MethodHandle SEND4;
    private static final MethodHandle SEND6;
    private static final MethodHandle CLOSE;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup iphlpapi = SymbolLookup.libraryLookup("iphlpapi.dll", Arena.global());
        CREATE4 = linker.downcallHandle(iphlpapi.findOrThrow("IcmpCreateFile"), FunctionDescriptor.of(ADDRESS));
        CREATE6 = linker.downcallHandle(iphlpapi.findOrThrow("Icmp6CreateFile"), FunctionDescriptor.of(ADDRESS));
        CLOSE = linker.downcallHandle(iphlpapi.findOrThrow("IcmpCloseHandle"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // DWORD IcmpSendEcho(HANDLE, IPAddr, LPVOID data, WORD size, PIP_OPTION_INFORMATION, LPVOID reply, DWORD size, DWORD timeout)
        SEND4 = linker.downcallHandle(iphlpapi.findOrThrow("IcmpSendEcho"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, ADDRESS, JAVA_SHORT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
        // DWORD Icmp6SendEcho2(HANDLE, HANDLE event, PIO_APC_ROUTINE, PVOID, sockaddr_in6 *src, sockaddr_in6 *dst,
        //                      LPVOID data, WORD size, PIP_OPTION_INFORMATION, LPVOID reply, DWORD size, DWORD timeout)
        SEND6 = linker.downcallHandle(iphlpapi.findOrThrow("Icmp6SendEcho2"), FunctionDescriptor.of(JAVA_INT, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_SHORT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
    }

    private final Executor loop;
    private final Replies replies;
    private final ThreadPoolExecutor worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(64), r -> Thread.ofPlatform().daemon().name("icmp-echo").unstarted(r));
    private MemorySegment handle4;
    private MemorySegment handle6;

    WindowsEchoSender(Executor loop, Replies replies) {
        this.loop = loop;
        this.replies = replies;
    }

    @Override
    public synchronized boolean available(boolean ipv6) {
        try {
            if (ipv6 && handle6 == null)
                handle6 = (MemorySegment) CREATE6.invokeExact();
            if (!ipv6 && handle4 == null)
                handle4 = (MemorySegment) CREATE4.invokeExact();
        } catch (Throwable e) {
            log.warn("the Windows ICMP API is not usable: {}", e.toString());
            return false;
        }
        MemorySegment h = ipv6 ? handle6 : handle4;
        return h.address() != 0 && h.address() != -1;
    }

    @Override
    public void send(byte[] board, InetAddress destination, int identifier, int sequence, byte[] payload) {
        boolean ipv6 = destination.getAddress().length == 16;
        if (!available(ipv6))
            return;
        try {
            worker.execute(() -> echo(board, destination, ipv6, identifier, sequence, payload));
        } catch (RejectedExecutionException e) {
            log.debug("ping to {} dropped: too many in flight", destination.getHostAddress());
        }
    }

    private void echo(byte[] board, InetAddress destination, boolean ipv6, int identifier, int sequence, byte[] payload) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocateFrom(JAVA_BYTE, payload);
            MemorySegment reply = a.allocate(REPLY_SIZE, 8);
            byte[] answer;
            if (ipv6) {
                MemorySegment source = a.allocate(28);
                source.set(JAVA_SHORT, 0, (short) 23); // AF_INET6, the unspecified source
                MemorySegment target = a.allocate(28);
                target.set(JAVA_SHORT, 0, (short) 23);
                MemorySegment.copy(destination.getAddress(), 0, target, JAVA_BYTE, 8, 16);
                int n = (int) SEND6.invokeExact(handle6, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL,
                        source, target, data, (short) payload.length, MemorySegment.NULL, reply, REPLY_SIZE, TIMEOUT_MS);
                if (n == 0 || reply.get(JAVA_INT, V6_STATUS) != 0)
                    return;
                answer = reply.asSlice(V6_DATA, payload.length).toArray(JAVA_BYTE);
            } else {
                int address = MemorySegment.ofArray(destination.getAddress())
                        .get(JAVA_INT.withOrder(ByteOrder.nativeOrder()), 0);
                int n = (int) SEND4.invokeExact(handle4, address, data, (short) payload.length, MemorySegment.NULL,
                        reply, REPLY_SIZE, TIMEOUT_MS);
                if (n == 0 || reply.get(JAVA_INT, V4_STATUS) != 0)
                    return;
                int size = Short.toUnsignedInt(reply.get(JAVA_SHORT, V4_DATA_SIZE));
                MemorySegment echoed = reply.get(ADDRESS, V4_DATA).reinterpret(size);
                answer = echoed.toArray(JAVA_BYTE);
            }
            loop.execute(() -> replies.onEchoReply(board, destination, identifier, sequence, answer));
        } catch (Throwable e) {
            log.debug("ping to {} failed: {}", destination.getHostAddress(), e.toString());
        }
    }

    @Override
    public synchronized void close() {
        worker.shutdownNow();
        try {
            if (handle4 != null && handle4.address() != 0)
                CLOSE.invokeExact(handle4);
            if (handle6 != null && handle6.address() != 0)
                CLOSE.invokeExact(handle6);
        } catch (Throwable e) {
            log.debug("IcmpCloseHandle: {}", e.toString());
        }
    }
}
