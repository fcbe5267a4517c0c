// Where the board may go: maps the virtual addresses (gateway, DNS) to host
// endpoints and refuses destinations the board must not reach. Never:
// unspecified, multicast, broadcast, and loopback except through the gateway
// with --allow-host-loopback. Link-local is refused unless an --allow rule
// covers it. Among --allow/--deny rules the longest prefix wins; a tie denies.
package dev.qbkit.qbnet.nat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

public final class Policy {
    private static final InetAddress LOOPBACK4 = NatConfig.v4("127.0.0.1");
    private static final InetAddress LOOPBACK6 = NatConfig.v6("::1");

    private final NatConfig config;
    private final byte[] gateway4;
    private final byte[] dns4;
    private final byte[] gateway6;
    private final byte[] dns6;

    public Policy(NatConfig config) {
        this.config = config;
        this.gateway4 = config.gateway4().getAddress();
        this.dns4 = config.dns4().getAddress();
        this.gateway6 = config.gateway6() == null ? new byte[0] : config.gateway6().getAddress();
        this.dns6 = config.dns6() == null ? new byte[0] : config.dns6().getAddress();
    }

    /** Whether a board packet's source address is one a board may use. */
    public static boolean isValidSource(byte[] source) {
        InetAddress a = address(source);
        return !(a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isMulticastAddress() || isBroadcast(source));
    }

    public boolean isDnsAddress(byte[] destination) {
        return Arrays.equals(destination, destination.length == 16 ? dns6 : dns4);
    }

    public boolean isGateway(byte[] destination) {
        return Arrays.equals(destination, destination.length == 16 ? gateway6 : gateway4);
    }

    /**
     * The host endpoint a board connection to {@code destination:port} goes to,
     * or null when policy refuses it.
     */
    public InetSocketAddress hostEndpoint(byte[] destination, int port, int protocol, List<InetSocketAddress> dnsUpstreams) {
        if (port == 0)
            return null;
        if (isGateway(destination))
            return config.allowHostLoopback()
                    ? new InetSocketAddress(destination.length == 16 ? LOOPBACK6 : LOOPBACK4, port) : null;
        if (isDnsAddress(destination)) {
            // DNS over TCP to the virtual resolver goes to the host's first upstream.
            if (port != 53 || dnsUpstreams.isEmpty())
                return null;
            return dnsUpstreams.getFirst();
        }
        InetAddress a = address(destination);
        if (a.isAnyLocalAddress() || a.isMulticastAddress() || isBroadcast(destination) || a.isLoopbackAddress())
            return null;
        if (!rulesAllow(destination))
            return null;
        return new InetSocketAddress(a, port);
    }

    /** Whether the board may ping {@code destination} through the host. */
    public boolean allowsPing(byte[] destination) {
        InetAddress a = address(destination);
        return !(a.isAnyLocalAddress() || a.isMulticastAddress() || isBroadcast(destination) || a.isLoopbackAddress())
                && rulesAllow(destination);
    }

    /** The address the board sees for a host endpoint a reply came from. */
    public byte[] boardVisibleSource(InetAddress hostSource) {
        if (hostSource.isLoopbackAddress())
            return hostSource.getAddress().length == 4 ? gateway4 : gateway6;
        return hostSource.getAddress();
    }

    private static final List<Cidr> LINK_LOCAL = List.of(Cidr.parse("169.254.0.0/16"), Cidr.parse("fe80::/10"));

    /** Whether the rules let the board reach {@code destination} (not loopback, handled apart). */
    boolean rulesAllow(byte[] destination) {
        int allow = longestMatch(config.allowRules(), destination);
        int deny = longestMatch(config.denyRules(), destination);
        if (allow >= 0 || deny >= 0)
            return allow > deny;
        return longestMatch(LINK_LOCAL, destination) < 0;
    }

    private static int longestMatch(List<Cidr> rules, byte[] address) {
        int best = -1;
        for (Cidr c : rules)
            if (c.prefixLength() > best && c.contains(address))
                best = c.prefixLength();
        return best;
    }

    private static boolean isBroadcast(byte[] a) {
        return a.length == 4 && (a[0] & a[1] & a[2] & a[3]) == (byte) 0xFF;
    }

    static InetAddress address(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad address length " + raw.length, e);
        }
    }
}
