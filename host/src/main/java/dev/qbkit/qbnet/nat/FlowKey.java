// Identity of a flow as the board sees it: protocol, the board's address and
// port, and the remote address and port it talks to.
package dev.qbkit.qbnet.nat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

import dev.qbkit.qbnet.packet.IpPacket;

public final class FlowKey {
    private final int protocol;
    private final byte[] boardAddress;
    private final int boardPort;
    private final byte[] remoteAddress;
    private final int remotePort;
    private final int hash;

    public FlowKey(int protocol, byte[] boardAddress, int boardPort, byte[] remoteAddress, int remotePort) {
        this.protocol = protocol;
        this.boardAddress = boardAddress;
        this.boardPort = boardPort;
        this.remoteAddress = remoteAddress;
        this.remotePort = remotePort;
        this.hash = ((Arrays.hashCode(boardAddress) * 31 + boardPort) * 31 + Arrays.hashCode(remoteAddress)) * 31
                + remotePort * 7 + protocol;
    }

    /** Key of a packet from the board, whose ports are at the start of its transport header. */
    public static FlowKey ofBoardPacket(IpPacket ip, int sourcePort, int destinationPort) {
        return new FlowKey(ip.protocol(), ip.source(), sourcePort, ip.destination(), destinationPort);
    }

    public int protocol() {
        return protocol;
    }

    public byte[] boardAddress() {
        return boardAddress;
    }

    public int boardPort() {
        return boardPort;
    }

    public byte[] remoteAddress() {
        return remoteAddress;
    }

    public int remotePort() {
        return remotePort;
    }

    public boolean isIpv6() {
        return boardAddress.length == 16;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowKey k && k.hash == hash && k.protocol == protocol && k.boardPort == boardPort
                && k.remotePort == remotePort && Arrays.equals(k.boardAddress, boardAddress)
                && Arrays.equals(k.remoteAddress, remoteAddress);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return format(boardAddress, boardPort) + " > " + format(remoteAddress, remotePort);
    }

    static String format(byte[] address, int port) {
        try {
            String host = InetAddress.getByAddress(address).getHostAddress();
            return address.length == 16 ? "[" + host + "]:" + port : host + ":" + port;
        } catch (UnknownHostException e) {
            return "?:" + port;
        }
    }
}
