// Settings of one board's NAT: the addresses it shows the board, limits and
// timeouts. Built from the command line; defaults follow doc/PROTOCOL.md.
package dev.qbkit.qbnet.nat;

import java.net.Inet4Address;
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
        int maxDnsInFlight) {

    public static final int DEFAULT_MTU = 65520;

    public static NatConfig defaults() {
        return new NatConfig(v4("10.113.98.2"), 24, v4("10.113.98.1"), v4("10.113.98.3"), DEFAULT_MTU, false,
                List.of(), 16384, 4096, 256L << 20, 1 << 20, 1 << 20, Duration.ofSeconds(60),
                Duration.ofSeconds(7440), Duration.ofSeconds(300), Duration.ofSeconds(2), Duration.ofSeconds(60),
                Duration.ofSeconds(10), 256);
    }

    public NatConfig withMtu(int newMtu) {
        return new NatConfig(boardAddress4, prefixLength4, gateway4, dns4, newMtu, allowHostLoopback, dnsUpstreams,
                maxTcpFlows, maxUdpFlows, maxBufferedBytes, tcpReceiveWindow, tcpSendBuffer, tcpConnectTimeout,
                tcpEstablishedIdle, tcpClosingIdle, tcpTimeWait, udpIdle, udpDnsIdle, maxDnsInFlight);
    }

    public static Inet4Address v4(String literal) {
        try {
            return (Inet4Address) InetAddress.getByName(literal);
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + literal, e);
        }
    }
}
