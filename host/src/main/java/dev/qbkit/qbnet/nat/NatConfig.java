// Settings of one board's NAT: the addresses it shows the board, limits and
// timeouts. Built from the command line; defaults follow doc/PROTOCOL.md.
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
        int mtu,
        boolean allowHostLoopback,
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
        Inet6Address boardAddress6,
        int prefixLength6,
        Inet6Address gateway6,
        Inet6Address dns6) {

    public static final int DEFAULT_MTU = 65520;
    public static final Inet6Address DEFAULT_BOARD6 = v6("fd71:6200::2");
    public static final Inet6Address DEFAULT_GATEWAY6 = v6("fd71:6200::1");
    public static final Inet6Address DEFAULT_DNS6 = v6("fd71:6200::3");

    /** IPv4 settings with the default IPv6 addressing (fd71:6200::/64). */
    public NatConfig(Inet4Address boardAddress4, int prefixLength4, Inet4Address gateway4, Inet4Address dns4, int mtu,
            boolean allowHostLoopback, List<InetSocketAddress> dnsUpstreams, int maxTcpFlows, int maxUdpFlows,
            long maxBufferedBytes, int tcpReceiveWindow, int tcpSendBuffer, Duration tcpConnectTimeout,
            Duration tcpEstablishedIdle, Duration tcpClosingIdle, Duration tcpTimeWait, Duration udpIdle,
            Duration udpDnsIdle, int maxDnsInFlight) {
        this(boardAddress4, prefixLength4, gateway4, dns4, mtu, allowHostLoopback, dnsUpstreams, maxTcpFlows,
                maxUdpFlows, maxBufferedBytes, tcpReceiveWindow, tcpSendBuffer, tcpConnectTimeout, tcpEstablishedIdle,
                tcpClosingIdle, tcpTimeWait, udpIdle, udpDnsIdle, maxDnsInFlight, DEFAULT_BOARD6, 64, DEFAULT_GATEWAY6,
                DEFAULT_DNS6);
    }

    public static NatConfig defaults() {
        return new NatConfig(v4("10.113.98.2"), 24, v4("10.113.98.1"), v4("10.113.98.3"), DEFAULT_MTU, false,
                List.of(), 16384, 4096, 256L << 20, 1 << 20, 1 << 20, Duration.ofSeconds(60),
                Duration.ofSeconds(7440), Duration.ofSeconds(300), Duration.ofSeconds(2), Duration.ofSeconds(60),
                Duration.ofSeconds(10), 256);
    }

    public NatConfig withMtu(int newMtu) {
        return new NatConfig(boardAddress4, prefixLength4, gateway4, dns4, newMtu, allowHostLoopback, dnsUpstreams,
                maxTcpFlows, maxUdpFlows, maxBufferedBytes, tcpReceiveWindow, tcpSendBuffer, tcpConnectTimeout,
                tcpEstablishedIdle, tcpClosingIdle, tcpTimeWait, udpIdle, udpDnsIdle, maxDnsInFlight, boardAddress6,
                prefixLength6, gateway6, dns6);
    }

    /** Whether the board gets IPv6 (an address and a default route). */
    public boolean ipv6() {
        return boardAddress6 != null;
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
