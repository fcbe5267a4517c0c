// Relays a board's pings on Linux and macOS through ICMP sockets opened with
// libc over FFM: unprivileged datagram "ping" sockets where the OS allows them
// (Linux: net.ipv4.ping_group_range; macOS: always), raw sockets when we run
// with CAP_NET_RAW instead. One poller thread per board reads the replies.
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
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.nat.EchoSender;

// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
final class SocketEchoSender implements EchoSender {
    private static final Logger log = LoggerFactory.getLogger(SocketEchoSender.class);

    private static final boolean MACOS = Platform.os() == Platform.Os.MACOS;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = MACOS ? 30 : 10;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_RAW = 3;
    private static final int IPPROTO_ICMP = 1;
    private static final int IPPROTO_ICMPV6 = 58;
    private static final int MSG_DONTWAIT = MACOS ? 0x80 : 0x40;
    private static final short POLLIN = 1;
    private static final int EINTR = 4;
    private static final int MAX_PACKET = 65536;
    private static final long PENDING_NANOS = 30_000_000_000L;
    private static final int MAX_PENDING = 1024;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SENDTO = libc("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVFROM = libc("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle POLL = libc("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static volatile boolean warnedUnavailable;

    private record Key(InetAddress destination, int sequence) {
    }

    private record Pending(byte[] board, int identifier, long expiresAt) {
    }

    private final Executor loop;
    private final Replies replies;
    private final Arena arena = Arena.ofShared();
    private final Family v4 = new Family(false);
    private final Family v6 = new Family(true);
    private final Map<Key, Pending> pending = new ConcurrentHashMap<>();
    private final int rawIdentifier = ThreadLocalRandom.current().nextInt(1, 0xFFFF);
    private volatile boolean closed;
    private Thread poller;

    SocketEchoSender(Executor loop, Replies replies) {
        this.loop = loop;
        this.replies = replies;
    }

    private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
    }

    /** One address family's socket, opened on first use. */
    private final class Family {
        final boolean ipv6;
        int fd = -1;
        boolean raw;
        boolean tried;

        Family(boolean ipv6) {
            this.ipv6 = ipv6;
        }

        synchronized boolean open() {
            if (tried)
                return fd >= 0;
            tried = true;
            int domain = ipv6 ? AF_INET6 : AF_INET;
            int protocol = ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment state = a.allocate(CAPTURE);
                fd = (int) SOCKET.invokeExact(state, domain, SOCK_DGRAM, protocol);
                int dgramErrno = (int) ERRNO.get(state, 0L);
                if (fd < 0) {
                    fd = (int) SOCKET.invokeExact(state, domain, SOCK_RAW, protocol);
                    raw = fd >= 0;
                }
                if (fd < 0) {
                    warnUnavailable(dgramErrno);
                    return false;
                }
            } catch (Throwable e) {
                throw new IllegalStateException("socket() through FFM failed", e);
            }
            log.debug("ICMP{} echo through a {} socket", ipv6 ? "v6" : "", raw ? "raw" : "ping");
            return true;
        }
    }

    private void warnUnavailable(int errno) {
        if (warnedUnavailable)
            return;
        warnedUnavailable = true;
        log.warn("ping from boards is answered 'administratively prohibited': this host allows no unprivileged ICMP "
                + "sockets (errno {}){}", errno, MACOS ? "" : "; to allow them: sudo sysctl -w "
                + "net.ipv4.ping_group_range=\"0 2147483647\"");
    }

    @Override
    public boolean available(boolean ipv6) {
        if (closed)
            return false;
        // Both families open together, before the poller starts, so it never waits on a partial set.
        synchronized (this) {
            if (poller == null) {
                v4.open();
                v6.open();
                if (v4.fd >= 0 || v6.fd >= 0)
                    poller = Thread.ofPlatform().daemon().name("icmp-echo").start(this::poll);
            }
        }
        return (ipv6 ? v6 : v4).fd >= 0;
    }

    @Override
    public void send(byte[] board, InetAddress destination, int identifier, int sequence, byte[] payload) {
        Family family = destination.getAddress().length == 16 ? v6 : v4;
        if (!available(family.ipv6))
            return;
        expireOld();
        if (pending.size() >= MAX_PENDING)
            return;
        pending.put(new Key(destination, sequence), new Pending(board, identifier, System.nanoTime() + PENDING_NANOS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment packet = a.allocate(8 + payload.length);
            packet.set(JAVA_BYTE, 0, (byte) (family.ipv6 ? 128 : 8));
            // Ping sockets set the identifier (and the checksum) themselves.
            setShortBe(packet, 4, family.raw ? rawIdentifier : identifier);
            setShortBe(packet, 6, sequence);
            MemorySegment.copy(payload, 0, packet, JAVA_BYTE, 8, payload.length);
            if (!family.ipv6)
                setShortBe(packet, 2, internetChecksum(packet));
            MemorySegment address = sockaddr(a, destination);
            MemorySegment state = a.allocate(CAPTURE);
            long sent = (long) SENDTO.invokeExact(state, family.fd, packet, packet.byteSize(), 0, address,
                    (int) address.byteSize());
            if (sent < 0)
                log.debug("ping to {} not sent: errno {}", destination.getHostAddress(), (int) ERRNO.get(state, 0L));
        } catch (Throwable e) {
            log.debug("ping to {} failed: {}", destination.getHostAddress(), e.toString());
        }
    }

    private void expireOld() {
        long now = System.nanoTime();
        pending.values().removeIf(p -> now - p.expiresAt > 0);
    }

    private void poll() {
        MemorySegment fds = arena.allocate(16);
        MemorySegment buffer = arena.allocate(MAX_PACKET);
        MemorySegment from = arena.allocate(128);
        MemorySegment fromLength = arena.allocate(JAVA_INT);
        MemorySegment state = arena.allocate(CAPTURE);
        while (!closed) {
            int n = 0;
            for (Family f : new Family[] { v4, v6 }) {
                if (f.fd < 0)
                    continue;
                fds.set(JAVA_INT, n * 8L, f.fd);
                fds.set(JAVA_SHORT, n * 8L + 4, POLLIN);
                fds.set(JAVA_SHORT, n * 8L + 6, (short) 0);
                n++;
            }
            try {
                int ready = (int) POLL.invokeExact(state, fds, (long) n, 500);
                if (ready < 0 && (int) ERRNO.get(state, 0L) != EINTR)
                    return;
                if (ready <= 0)
                    continue;
                for (Family f : new Family[] { v4, v6 })
                    if (f.fd >= 0)
                        drain(f, buffer, from, fromLength, state);
            } catch (Throwable e) {
                if (!closed)
                    log.warn("ICMP echo poller stopped: {}", e.toString());
                return;
            }
        }
    }

    private void drain(Family f, MemorySegment buffer, MemorySegment from, MemorySegment fromLength,
            MemorySegment state) throws Throwable {
        while (!closed) {
            fromLength.set(JAVA_INT, 0, (int) from.byteSize());
            long n = (long) RECVFROM.invokeExact(state, f.fd, buffer, buffer.byteSize(), MSG_DONTWAIT, from, fromLength);
            if (n <= 0)
                return;
            onPacket(f, buffer.asSlice(0, n).toArray(JAVA_BYTE), from);
        }
    }

    private void onPacket(Family f, byte[] packet, MemorySegment from) {
        int at = 0;
        // IPv4 raw sockets (and macOS datagram ones) deliver the IP header too.
        if (!f.ipv6 && packet.length >= 20 && (packet[0] >> 4) == 4)
            at = (packet[0] & 0x0F) * 4;
        if (packet.length - at < 8)
            return;
        int type = packet[at] & 0xFF;
        if (type != (f.ipv6 ? 129 : 0))
            return;
        int identifier = ((packet[at + 4] & 0xFF) << 8) | (packet[at + 5] & 0xFF);
        if (f.raw && identifier != rawIdentifier)
            return; // another process's ping
        int sequence = ((packet[at + 6] & 0xFF) << 8) | (packet[at + 7] & 0xFF);
        InetAddress source = fromSockaddr(from);
        if (source == null)
            return;
        Pending p = pending.remove(new Key(source, sequence));
        if (p == null)
            return;
        byte[] payload = java.util.Arrays.copyOfRange(packet, at + 8, packet.length);
        loop.execute(() -> replies.onEchoReply(p.board(), source, p.identifier(), sequence, payload));
    }

    private static MemorySegment sockaddr(Arena a, InetAddress address) {
        byte[] raw = address.getAddress();
        boolean ipv6 = raw.length == 16;
        MemorySegment s = a.allocate(ipv6 ? 28 : 16);
        if (MACOS) {
            s.set(JAVA_BYTE, 0, (byte) s.byteSize());
            s.set(JAVA_BYTE, 1, (byte) (ipv6 ? AF_INET6 : AF_INET));
        } else {
            s.set(JAVA_SHORT, 0, (short) (ipv6 ? AF_INET6 : AF_INET));
        }
        MemorySegment.copy(raw, 0, s, JAVA_BYTE, ipv6 ? 8 : 4, raw.length);
        return s;
    }

    private static InetAddress fromSockaddr(MemorySegment s) {
        int family = MACOS ? s.get(JAVA_BYTE, 1) : s.get(JAVA_SHORT, 0);
        byte[] raw;
        if (family == AF_INET)
            raw = s.asSlice(4, 4).toArray(JAVA_BYTE);
        else if (family == AF_INET6)
            raw = s.asSlice(8, 16).toArray(JAVA_BYTE);
        else
            return null;
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static void setShortBe(MemorySegment s, long offset, int value) {
        s.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), offset, (short) value);
    }

    private static int internetChecksum(MemorySegment s) {
        long sum = 0;
        long n = s.byteSize();
        for (long i = 0; i + 1 < n; i += 2)
            sum += ((s.get(JAVA_BYTE, i) & 0xFF) << 8) | (s.get(JAVA_BYTE, i + 1) & 0xFF);
        if ((n & 1) != 0)
            sum += (s.get(JAVA_BYTE, n - 1) & 0xFF) << 8;
        while ((sum >>> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) (~sum & 0xFFFF);
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = poller;
        }
        if (t != null) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Family f : new Family[] { v4, v6 }) {
            if (f.fd >= 0) {
                try {
                    int rc = (int) CLOSE.invokeExact(arena.allocate(CAPTURE), f.fd);
                    if (rc != 0)
                        log.debug("close(ICMP socket) failed");
                } catch (Throwable e) {
                    log.debug("close(ICMP socket): {}", e.toString());
                }
                f.fd = -1;
            }
        }
        if (t == null || !t.isAlive())
            arena.close();
    }
}
