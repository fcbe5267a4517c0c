// The UDP part of one board's NAT. Endpoint-independent mapping (RFC 4787):
// each board address:port gets one unconnected host socket, used for every
// destination it sends to; replies are accepted only from addresses it sent
// to (address-dependent filtering). Idle mappings expire. A mapping stops
// reading its socket while the link toward the board is congested.
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.loop.Timer;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.IpWriter;

public final class UdpTable {
    private static final Logger log = LoggerFactory.getLogger(UdpTable.class);
    private static final byte[] NO_ADDRESS = new byte[0];
    static final int HEADER = 8;
    private static final int MAX_PEERS = 64;
    private static final int MAX_DATAGRAMS_PER_WAKEUP = 64;

    private final NatContext ctx;
    private final EventLoop loop;
    private final Policy policy;
    private final DnsProxy dns;
    private final Map<FlowKey, Mapping> mappings = new HashMap<>();
    private final Map<Integer, HostForward> forwardsByPort = new HashMap<>();
    private final Map<InetSocketAddress, HostForward> forwardsByClient = new HashMap<>();
    private int nextForwardPort = TcpTable.FORWARD_PORT_MIN;
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(65536);

    public UdpTable(NatContext ctx, EventLoop loop, Policy policy, DnsProxy dns) {
        this.ctx = ctx;
        this.loop = loop;
        this.policy = policy;
        this.dns = dns;
    }

    public int size() {
        return mappings.size();
    }

    public void onPacket(IpPacket ip) {
        ByteBuffer buf = ip.buffer();
        int u = ip.payloadOffset();
        int available = ip.payloadLength();
        if (available < HEADER) {
            ctx.stats().inc(Counter.DROP_UDP_MALFORMED);
            return;
        }
        int sourcePort = Short.toUnsignedInt(buf.getShort(u));
        int destinationPort = Short.toUnsignedInt(buf.getShort(u + 2));
        int length = Short.toUnsignedInt(buf.getShort(u + 4));
        if (length < HEADER || length > available || sourcePort == 0) {
            ctx.stats().inc(Counter.DROP_UDP_MALFORMED);
            return;
        }
        byte[] destination = ip.destination();
        if (policy.isGateway(destination)) {
            HostForward forward = forwardsByPort.get(destinationPort);
            if (forward != null) {
                forward.toClient(buf, u + HEADER, length - HEADER);
                return;
            }
        }
        if (destinationPort == 53 && policy.isDnsAddress(destination)) {
            dns.onQuery(ip.source(), sourcePort, destination, buf, u + HEADER, length - HEADER);
            return;
        }
        InetSocketAddress endpoint = policy.hostEndpoint(destination, destinationPort, IpProtocol.UDP, List.of());
        if (endpoint == null) {
            ctx.stats().inc(Counter.DROP_POLICY);
            return;
        }
        Mapping mapping = mapping(ip.source(), sourcePort, destinationPort == 53);
        if (mapping == null)
            return;
        mapping.send(endpoint, buf, u + HEADER, length - HEADER);
    }

    private Mapping mapping(byte[] boardAddress, int boardPort, boolean dnsLike) {
        FlowKey key = new FlowKey(IpProtocol.UDP, boardAddress, boardPort, NO_ADDRESS, 0);
        Mapping m = mappings.get(key);
        if (m != null)
            return m;
        if (mappings.size() >= ctx.config().maxUdpFlows()) {
            ctx.limitHit(Counter.DROP_UDP_FLOW_LIMIT, "the board has " + mappings.size()
                    + " UDP mappings, the limit: datagrams from new ports are dropped (raise --max-udp-flows)");
            return null;
        }
        try {
            m = new Mapping(key, dnsLike);
        } catch (IOException e) {
            log.warn("cannot open a UDP socket for {}: {}", key, e.toString());
            ctx.stats().inc(Counter.DROP_UDP_SEND_FAILED);
            return null;
        }
        mappings.put(key, m);
        ctx.stats().inc(Counter.UDP_FLOWS_OPENED);
        return m;
    }

    public void closeAll() {
        for (Mapping m : new ArrayList<>(mappings.values()))
            m.close();
        for (HostForward f : new ArrayList<>(forwardsByPort.values()))
            f.close();
    }

    /**
     * A datagram a host client sent to a UDP forward: it goes to the board
     * from the gateway address and a port kept for that client, so the
     * board's replies find their way back.
     */
    public void forwardFromHost(DatagramChannel hostChannel, InetSocketAddress client, byte[] gateway, byte[] board,
            int boardPort, ByteBuffer payload) {
        HostForward forward = forwardsByClient.get(client);
        if (forward == null || forward.hostChannel != hostChannel || forward.boardPort != boardPort) {
            if (forward != null)
                forward.close();
            int port = freeForwardPort();
            if (port < 0 || mappings.size() + forwardsByPort.size() >= ctx.config().maxUdpFlows()) {
                ctx.limitHit(Counter.DROP_UDP_FLOW_LIMIT, "UDP forward from " + client
                        + " dropped: the board is at its UDP mapping limit (raise --max-udp-flows)");
                return;
            }
            forward = new HostForward(hostChannel, client, port, board, boardPort);
            forwardsByPort.put(port, forward);
            forwardsByClient.put(client, forward);
            ctx.stats().inc(Counter.UDP_FLOWS_OPENED);
        }
        forward.lastActivity = ctx.now();
        writeDatagram(ctx, gateway, forward.gatewayPort, board, boardPort, payload);
    }

    private int freeForwardPort() {
        for (int tries = 0; tries < 65536 - TcpTable.FORWARD_PORT_MIN; tries++) {
            int port = nextForwardPort;
            nextForwardPort = port == 65535 ? TcpTable.FORWARD_PORT_MIN : port + 1;
            if (!forwardsByPort.containsKey(port))
                return port;
        }
        return -1;
    }

    /** One host client of a UDP forward and the gateway port it has on the board side. */
    private final class HostForward extends Timer {
        final DatagramChannel hostChannel;
        final InetSocketAddress client;
        final int gatewayPort;
        final int boardPort;
        long lastActivity;

        HostForward(DatagramChannel hostChannel, InetSocketAddress client, int gatewayPort, byte[] board, int boardPort) {
            this.hostChannel = hostChannel;
            this.client = client;
            this.gatewayPort = gatewayPort;
            this.boardPort = boardPort;
            this.lastActivity = ctx.now();
            ctx.schedule(this, lastActivity + ctx.config().udpIdle().toNanos());
        }

        void toClient(ByteBuffer buf, int offset, int length) {
            ByteBuffer payload = buf.duplicate();
            payload.limit(offset + length).position(offset);
            try {
                if (hostChannel.isOpen() && (hostChannel.send(payload, client) > 0 || length == 0)) {
                    lastActivity = ctx.now();
                    ctx.stats().inc(Counter.UDP_DATAGRAMS_TX);
                    return;
                }
            } catch (IOException e) {
                log.debug("UDP forward reply to {} failed: {}", client, e.toString());
            }
            ctx.stats().inc(Counter.DROP_UDP_SEND_FAILED);
        }

        @Override
        protected void fire(long now) {
            long due = lastActivity + ctx.config().udpIdle().toNanos();
            if (due - now > 0 && hostChannel.isOpen()) {
                ctx.schedule(this, due);
                return;
            }
            close();
        }

        void close() {
            ctx.cancel(this);
            if (forwardsByPort.remove(gatewayPort) != null)
                ctx.stats().inc(Counter.UDP_FLOWS_CLOSED);
            forwardsByClient.remove(client, this);
        }
    }

    /** One board address:port and its host socket. */
    private final class Mapping extends Timer implements EventLoop.IoHandler {
        private final FlowKey key;
        private final DatagramChannel channel;
        private final Set<InetAddress> peers = new HashSet<>();
        private final long idleNanos;
        private long lastActivity;
        /** Reading stops while the link toward the board is congested (issue 14). */
        private final LinkGate gate = new LinkGate(ctx);

        Mapping(FlowKey key, boolean dnsLike) throws IOException {
            this.key = key;
            this.channel = DatagramChannel.open(key.isIpv6() ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            channel.configureBlocking(false);
            channel.bind(null);
            gate.setKey(loop.register(channel, SelectionKey.OP_READ, this));
            this.idleNanos = (dnsLike ? ctx.config().udpDnsIdle() : ctx.config().udpIdle()).toNanos();
            this.lastActivity = ctx.now();
            ctx.schedule(this, lastActivity + idleNanos);
        }

        void send(InetSocketAddress endpoint, ByteBuffer buf, int offset, int length) {
            ByteBuffer payload = buf.duplicate();
            payload.limit(offset + length).position(offset);
            try {
                // 0 means "no room" for data, but is also what a sent empty datagram returns.
                if (channel.send(payload, endpoint) == 0 && length > 0) {
                    ctx.stats().inc(Counter.DROP_UDP_SEND_FAILED);
                    return;
                }
            } catch (IOException e) {
                ctx.stats().inc(Counter.DROP_UDP_SEND_FAILED);
                log.debug("{}: send to {} failed: {}", key, endpoint, e.toString());
                return;
            }
            if (peers.size() < MAX_PEERS || peers.contains(endpoint.getAddress()))
                peers.add(endpoint.getAddress());
            lastActivity = ctx.now();
            ctx.stats().inc(Counter.UDP_DATAGRAMS_TX);
        }

        @Override
        public void onReady(SelectionKey k) throws IOException {
            for (int i = 0; i < MAX_DATAGRAMS_PER_WAKEUP && gate.mayRead(); i++) {
                receiveBuffer.clear();
                InetSocketAddress from = (InetSocketAddress) channel.receive(receiveBuffer);
                if (from == null)
                    return;
                receiveBuffer.flip();
                if (!peers.contains(from.getAddress())) {
                    ctx.stats().inc(Counter.DROP_UDP_FILTERED);
                    continue;
                }
                lastActivity = ctx.now();
                byte[] source = policy.boardVisibleSource(from.getAddress());
                if (source.length != key.boardAddress().length)
                    source = mapFamily(from.getAddress());
                if (source == null)
                    continue;
                writeDatagram(ctx, source, from.getPort(), key.boardAddress(), key.boardPort(), receiveBuffer);
            }
        }

        private byte[] mapFamily(InetAddress from) {
            // An IPv4 reply on an IPv6 socket arrives as ::ffff:a.b.c.d; the board's flow is IPv6 then.
            if (from instanceof Inet6Address && key.boardAddress().length == 4)
                return null;
            return from.getAddress();
        }

        @Override
        protected void fire(long now) {
            long due = lastActivity + idleNanos;
            if (due - now > 0) {
                ctx.schedule(this, due);
                return;
            }
            close();
        }

        void close() {
            ctx.cancel(this);
            try {
                channel.close();
            } catch (IOException e) {
                // closing: nothing left to report to
            }
            if (mappings.remove(key) != null)
                ctx.stats().inc(Counter.UDP_FLOWS_CLOSED);
        }
    }

    /** Writes one UDP datagram to the board, dropping it if it exceeds the MTU. */
    static boolean writeDatagram(NatContext ctx, byte[] source, int sourcePort, byte[] destination, int destinationPort,
            ByteBuffer payload) {
        boolean ipv6 = destination.length == 16;
        int udpLength = HEADER + payload.remaining();
        int ipLength = IpWriter.headerLength(ipv6) + udpLength;
        if (ipLength > ctx.config().mtu()) {
            ctx.stats().inc(Counter.DROP_UDP_TOO_BIG);
            return false;
        }
        PacketOutput out = ctx.output();
        int at = out.begin(ipLength);
        ByteBuffer b = out.buffer();
        int u = at + IpWriter.writeHeader(b, at, source, destination, IpProtocol.UDP, udpLength, ctx.nextIpId());
        b.putShort(u, (short) sourcePort);
        b.putShort(u + 2, (short) destinationPort);
        b.putShort(u + 4, (short) udpLength);
        b.putShort(u + 6, (short) 0);
        b.put(u + HEADER, payload, payload.position(), payload.remaining());
        IpWriter.fillTransportChecksum(b, at, ipv6, IpProtocol.UDP, udpLength, 6);
        out.commit(ipLength);
        ctx.stats().inc(Counter.UDP_DATAGRAMS_RX);
        return true;
    }
}
