// An IPv4 or IPv6 network (address/prefix) for the board's policy rules.
package dev.qbkit.qbnet.nat;

import java.net.InetAddress;
import java.net.UnknownHostException;

public record Cidr(byte[] network, int prefixLength) {
    public Cidr {
        network = network.clone();
        int bits = network.length * 8;
        if (prefixLength < 0 || prefixLength > bits)
            throw new IllegalArgumentException("prefix /" + prefixLength + " outside 0.." + bits);
        for (int bit = prefixLength; bit < bits; bit++)
            network[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }

    /** Parses "ADDR/PREFIX" (an address alone is a host route); IllegalArgumentException names the problem. */
    public static Cidr parse(String text) {
        String[] parts = text.split("/", -1);
        if (parts.length > 2 || !parts[0].matches("[0-9a-fA-F:.]+"))
            throw new IllegalArgumentException("'" + text + "' is not ADDRESS/PREFIX like 192.168.0.0/16 or fd00::/8");
        byte[] address;
        try {
            address = InetAddress.ofLiteral(parts[0]).getAddress(); // a literal only: never a name lookup
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not ADDRESS/PREFIX like 192.168.0.0/16 or fd00::/8");
        }
        if (parts.length == 1)
            return new Cidr(address, address.length * 8);
        if (!parts[1].matches("\\d{1,3}"))
            throw new IllegalArgumentException("'" + text + "': the prefix must be a number");
        return new Cidr(address, Integer.parseInt(parts[1]));
    }

    public boolean contains(byte[] address) {
        if (address.length != network.length)
            return false;
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++)
            if (address[i] != network[i])
                return false;
        int rest = prefixLength % 8;
        if (rest == 0)
            return true;
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (address[full] & mask) == (network[full] & mask);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefixLength == prefixLength && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + prefixLength;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
        } catch (UnknownHostException e) {
            return "?/" + prefixLength;
        }
    }
}
