// The control messages of channel 0 (doc/PROTOCOL.md section 4) as values.
// Optional fields use 0 / null / empty for "not sent"; encoders omit them.
package dev.qbkit.qbnet.link;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.List;

public sealed interface ControlMessage {
    int TYPE_HELLO = 1;
    int TYPE_CONFIG = 2;
    int TYPE_KEEPALIVE = 3;
    int TYPE_ERROR = 4;

    int ROLE_BOARD = 1;
    int ROLE_HOST = 2;

    int CAP_IPV6 = 1;
    /** PROTOCOL.md section 7: TSO and partial checksums from the board, offload headers to it. */
    int CAP_OFFLOAD = 2;

    int ERROR_VERSION = 1;
    int ERROR_MALFORMED = 2;
    int ERROR_CONFIG_FAILED = 3;
    int ERROR_PROTOCOL = 4;

    /**
     * A peer's introduction. {@code mtu} 0: not sent (the receiver assumes
     * 1500). {@code instance}: the host driver process's random id, 0 when
     * not sent (boards send none).
     */
    record Hello(int versionMin, int versionMax, int role, long maxBundle, int mtu, String serial,
            String software, long caps, long instance) implements ControlMessage {
        public Hello(int versionMin, int versionMax, int role, long maxBundle, int mtu, String serial, String software,
                long caps) {
            this(versionMin, versionMax, role, maxBundle, mtu, serial, software, caps, 0);
        }
    }

    record Ipv4Prefix(Inet4Address address, int prefixLength) {
        @Override
        public String toString() {
            return address.getHostAddress() + "/" + prefixLength;
        }
    }

    record Ipv6Prefix(Inet6Address address, int prefixLength) {
        @Override
        public String toString() {
            return address.getHostAddress() + "/" + prefixLength;
        }
    }

    /** Addressing the host pushes to the board; IPv6 fields null/empty when not configured. */
    record Config(int mtu, Ipv4Prefix ipv4, Inet4Address gateway4, List<Inet4Address> dns4, Ipv6Prefix ipv6,
            Inet6Address gateway6, List<Inet6Address> dns6) implements ControlMessage {
        public Config {
            dns4 = List.copyOf(dns4);
            dns6 = List.copyOf(dns6);
        }
    }

    /** {@code echo} is -1 in a request, else the SEQ it answers. */
    record Keepalive(long seq, long echo) implements ControlMessage {
        public boolean isReply() {
            return echo >= 0;
        }
    }

    /** {@code text} null when not sent. */
    record Error(int code, String text) implements ControlMessage {
    }
}
