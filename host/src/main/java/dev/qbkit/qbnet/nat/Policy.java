// Where the board may go: maps the virtual addresses (gateway, DNS) to host
// endpoints and refuses destinations the board must not reach, such as the
// host's loopback unless --allow-host-loopback was given.
package dev.qbkit.qbnet.nat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

public final class Policy {
    private static final InetAddress LOOPBACK4 = InetAddress.getLoopbackAddress();

    private final NatConfig config;
    private final byte[] gateway4;
    private final byte[] dns4;

    public Policy(NatConfig config) {
        this.config = config;
        this.gateway4 = config.gateway4().getAddress();
        this.dns4 = config.dns4().getAddress();
    }

    /** Whether a board packet's source address is one a board may use. */
    public static boolean isValidSource(byte[] source) {
        InetAddress a = address(source);
        return !(a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isMulticastAddress() || isBroadcast(source));
    }

    public boolean isDnsAddress(byte[] destination) {
        return Arrays.equals(destination, dns4);
    }

    public boolean isGateway(byte[] destination) {
        return Arrays.equals(destination, gateway4);
    }

    /**
     * The host endpoint a board connection to {@code destination:port} goes to,
     * or null when policy refuses it.
     */
    public InetSocketAddress hostEndpoint(byte[] destination, int port, int protocol, List<InetSocketAddress> dnsUpstreams) {
        if (port == 0)
            return null;
        if (isGateway(destination))
            return config.allowHostLoopback() ? new InetSocketAddress(LOOPBACK4, port) : null;
        if (isDnsAddress(destination)) {
            // DNS over TCP to the virtual resolver goes to the host's first upstream.
            if (port != 53 || dnsUpstreams.isEmpty())
                return null;
            return dnsUpstreams.getFirst();
        }
        InetAddress a = address(destination);
        if (a.isAnyLocalAddress() || a.isMulticastAddress() || isBroadcast(destination))
            return null;
        if (a.isLoopbackAddress() && !config.allowHostLoopback())
            return null;
        return new InetSocketAddress(a, port);
    }

    /** The address the board sees for a host endpoint a reply came from. */
    public byte[] boardVisibleSource(InetAddress hostSource) {
        if (hostSource.isLoopbackAddress() && hostSource.getAddress().length == 4)
            return gateway4;
        return hostSource.getAddress();
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
