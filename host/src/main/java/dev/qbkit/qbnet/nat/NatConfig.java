// Settings of one board's NAT: the addresses it shows the board, policy,
// limits and timeouts. Built from the command line through Builder, whose
// defaults follow doc/PROTOCOL.md and doc/DESIGN.md.
package dev.qbkit.qbnet.nat;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

public record NatConfig(
        Inet4Address boardAddress4,
        int prefixLength4,
        Inet4Address gateway4,
        Inet4Address dns4,
        Inet6Address boardAddress6, // null: no IPv6 for the board
        int prefixLength6,
        Inet6Address gateway6,
        Inet6Address dns6,
        int mtu,
        boolean allowHostLoopback,
        List<Cidr> allowRules,
        List<Cidr> denyRules,
        List<InetSocketAddress> dnsUpstreams,
        int maxTcpFlows,
        int maxUdpFlows,
        long maxBufferedBytes,
        int tcpReceiveWindow,
        int tcpSendBuffer,
        Duration tcpConnectTimeout,
        Duration tcpEstablishedIdle,
        Duration tcpClosingIdle,
        Duration tcpTimeWait,
        Duration udpIdle,
        Duration udpDnsIdle,
        int maxDnsInFlight,
        boolean offload) {

    public static final int DEFAULT_MTU = 65520;

    public NatConfig {
        allowRules = List.copyOf(allowRules);
        denyRules = List.copyOf(denyRules);
        dnsUpstreams = List.copyOf(dnsUpstreams);
    }

    public static NatConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public NatConfig withMtu(int newMtu) {
        return toBuilder().mtu(newMtu).build();
    }

    /** Whether the board gets IPv6 (an address and a default route). */
    public boolean ipv6() {
        return boardAddress6 != null;
    }

    /** Sets fields one by one over the defaults. */
    public static final class Builder {
        private Inet4Address boardAddress4 = v4("10.113.98.2");
        private int prefixLength4 = 24;
        private Inet4Address gateway4 = v4("10.113.98.1");
        private Inet4Address dns4 = v4("10.113.98.3");
        private Inet6Address boardAddress6 = v6("fd71:6200::2");
        private int prefixLength6 = 64;
        private Inet6Address gateway6 = v6("fd71:6200::1");
        private Inet6Address dns6 = v6("fd71:6200::3");
        private int mtu = DEFAULT_MTU;
        private boolean allowHostLoopback;
        private List<Cidr> allowRules = List.of();
        private List<Cidr> denyRules = List.of();
        private List<InetSocketAddress> dnsUpstreams = List.of();
        private int maxTcpFlows = 16384;
        private int maxUdpFlows = 4096;
        private long maxBufferedBytes = 256L << 20;
        private int tcpReceiveWindow = 1 << 20;
        private int tcpSendBuffer = 1 << 20;
        private Duration tcpConnectTimeout = Duration.ofSeconds(60);
        private Duration tcpEstablishedIdle = Duration.ofSeconds(7440); // RFC 5382: at least 2 h 4 min
        private Duration tcpClosingIdle = Duration.ofSeconds(300);
        private Duration tcpTimeWait = Duration.ofSeconds(2);
        private Duration udpIdle = Duration.ofSeconds(60);
        private Duration udpDnsIdle = Duration.ofSeconds(10);
        private int maxDnsInFlight = 256;
        private boolean offload = true;

        Builder() {
        }

        Builder(NatConfig c) {
            boardAddress4 = c.boardAddress4;
            prefixLength4 = c.prefixLength4;
            gateway4 = c.gateway4;
            dns4 = c.dns4;
            boardAddress6 = c.boardAddress6;
            prefixLength6 = c.prefixLength6;
            gateway6 = c.gateway6;
            dns6 = c.dns6;
            mtu = c.mtu;
            allowHostLoopback = c.allowHostLoopback;
            allowRules = c.allowRules;
            denyRules = c.denyRules;
            dnsUpstreams = c.dnsUpstreams;
            maxTcpFlows = c.maxTcpFlows;
            maxUdpFlows = c.maxUdpFlows;
            maxBufferedBytes = c.maxBufferedBytes;
            tcpReceiveWindow = c.tcpReceiveWindow;
            tcpSendBuffer = c.tcpSendBuffer;
            tcpConnectTimeout = c.tcpConnectTimeout;
            tcpEstablishedIdle = c.tcpEstablishedIdle;
            tcpClosingIdle = c.tcpClosingIdle;
            tcpTimeWait = c.tcpTimeWait;
            udpIdle = c.udpIdle;
            udpDnsIdle = c.udpDnsIdle;
            maxDnsInFlight = c.maxDnsInFlight;
            offload = c.offload;
        }

        /** Offer offload (PROTOCOL.md section 7) to boards; used when the board offers it too. */
        public Builder offload(boolean value) {
            offload = value;
            return this;
        }

        public Builder ipv4(Inet4Address board, int prefixLength, Inet4Address gateway, Inet4Address dns) {
            boardAddress4 = board;
            prefixLength4 = prefixLength;
            gateway4 = gateway;
            dns4 = dns;
            return this;
        }

        /** IPv6 for the board; null board address turns IPv6 off. */
        public Builder ipv6(Inet6Address board, int prefixLength, Inet6Address gateway, Inet6Address dns) {
            boardAddress6 = board;
            prefixLength6 = prefixLength;
            gateway6 = gateway;
            dns6 = dns;
            return this;
        }

        public Builder mtu(int value) {
            mtu = value;
            return this;
        }

        public Builder allowHostLoopback(boolean value) {
            allowHostLoopback = value;
            return this;
        }

        public Builder rules(List<Cidr> allow, List<Cidr> deny) {
            allowRules = allow;
            denyRules = deny;
            return this;
        }

        public Builder dnsUpstreams(List<InetSocketAddress> value) {
            dnsUpstreams = value;
            return this;
        }

        public Builder limits(int tcpFlows, int udpFlows, long bufferedBytes) {
            maxTcpFlows = tcpFlows;
            maxUdpFlows = udpFlows;
            maxBufferedBytes = bufferedBytes;
            return this;
        }

        public Builder tcpBuffers(int receiveWindow, int sendBuffer) {
            tcpReceiveWindow = receiveWindow;
            tcpSendBuffer = sendBuffer;
            return this;
        }

        public Builder tcpTimeouts(Duration connect, Duration establishedIdle, Duration closingIdle, Duration timeWait) {
            tcpConnectTimeout = connect;
            tcpEstablishedIdle = establishedIdle;
            tcpClosingIdle = closingIdle;
            tcpTimeWait = timeWait;
            return this;
        }

        public Builder udpTimeouts(Duration idle, Duration dnsIdle) {
            udpIdle = idle;
            udpDnsIdle = dnsIdle;
            return this;
        }

        public Builder maxDnsInFlight(int value) {
            maxDnsInFlight = value;
            return this;
        }

        public NatConfig build() {
            return new NatConfig(boardAddress4, prefixLength4, gateway4, dns4, boardAddress6, prefixLength6, gateway6,
                    dns6, mtu, allowHostLoopback, allowRules, denyRules, dnsUpstreams, maxTcpFlows, maxUdpFlows,
                    maxBufferedBytes, tcpReceiveWindow, tcpSendBuffer, tcpConnectTimeout, tcpEstablishedIdle,
                    tcpClosingIdle, tcpTimeWait, udpIdle, udpDnsIdle, maxDnsInFlight, offload);
        }
    }

    public static Inet6Address v6(String literal) {
        try {
            return (Inet6Address) InetAddress.getByName(literal);
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException("not an IPv6 address: " + literal, e);
        }
    }

    public static Inet4Address v4(String literal) {
        try {
            return (Inet4Address) InetAddress.getByName(literal);
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + literal, e);
        }
    }
}
