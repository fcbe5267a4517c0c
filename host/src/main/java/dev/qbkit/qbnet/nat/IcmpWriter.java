// Writes ICMP and ICMPv6 messages to the board: echo replies, and errors
// (destination unreachable) that quote the packet they answer, as routers do.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;

import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.IpWriter;

public final class IcmpWriter {
    public static final int ECHO_REPLY_V4 = 0;
    public static final int UNREACHABLE_V4 = 3;
    public static final int ECHO_REQUEST_V4 = 8;
    public static final int UNREACHABLE_V6 = 1;
    public static final int ECHO_REQUEST_V6 = 128;
    public static final int ECHO_REPLY_V6 = 129;
    /** Unreachable codes (v4 / v6). */
    public static final int NET_UNREACHABLE_V4 = 0;
    public static final int HOST_UNREACHABLE_V4 = 1;
    public static final int PROHIBITED_V4 = 13;
    public static final int NO_ROUTE_V6 = 0;
    public static final int PROHIBITED_V6 = 1;
    public static final int ADDRESS_UNREACHABLE_V6 = 3;

    private IcmpWriter() {
    }

    /** An echo reply from {@code source} to the board. */
    public static void echoReply(NatContext ctx, byte[] source, byte[] board, int identifier, int sequence,
            ByteBuffer payload, int payloadOffset, int payloadLength) {
        boolean v6 = board.length == 16;
        int icmpLength = 8 + payloadLength;
        if (IpWriter.headerLength(v6) + icmpLength > ctx.config().mtu())
            return;
        int at = begin(ctx, source, board, icmpLength);
        ByteBuffer b = ctx.output().buffer();
        int i = at + IpWriter.headerLength(v6);
        b.put(i, (byte) (v6 ? ECHO_REPLY_V6 : ECHO_REPLY_V4)).put(i + 1, (byte) 0);
        b.putShort(i + 4, (short) identifier).putShort(i + 6, (short) sequence);
        b.put(i + 8, payload, payloadOffset, payloadLength);
        finish(ctx, at, v6, icmpLength);
    }

    /**
     * A destination-unreachable error from {@code source} about the board's
     * packet whose first bytes are {@code quoted} (its IP header and at least
     * eight bytes of what follows).
     */
    public static void unreachable(NatContext ctx, byte[] source, byte[] board, int code, byte[] quoted) {
        boolean v6 = board.length == 16;
        // RFC 792 quotes header + 8 bytes; RFC 4443 as much as fits in 1280.
        int quote = Math.min(quoted.length, v6 ? 1280 - 48 : 548);
        int icmpLength = 8 + quote;
        int at = begin(ctx, source, board, icmpLength);
        ByteBuffer b = ctx.output().buffer();
        int i = at + IpWriter.headerLength(v6);
        b.put(i, (byte) (v6 ? UNREACHABLE_V6 : UNREACHABLE_V4)).put(i + 1, (byte) code);
        b.putInt(i + 4, 0);
        b.put(i + 8, quoted, 0, quote);
        finish(ctx, at, v6, icmpLength);
    }

    private static int begin(NatContext ctx, byte[] source, byte[] board, int icmpLength) {
        boolean v6 = board.length == 16;
        int at = ctx.output().begin(IpWriter.headerLength(v6) + icmpLength);
        IpWriter.writeHeader(ctx.output().buffer(), at, source, board, v6 ? IpProtocol.ICMPV6 : IpProtocol.ICMP,
                icmpLength, ctx.nextIpId());
        return at;
    }

    private static void finish(NatContext ctx, int at, boolean v6, int icmpLength) {
        ByteBuffer b = ctx.output().buffer();
        int i = at + IpWriter.headerLength(v6);
        if (v6) {
            IpWriter.fillTransportChecksum(b, at, true, IpProtocol.ICMPV6, icmpLength, 2);
        } else {
            b.putShort(i + 2, (short) 0);
            b.putShort(i + 2, (short) Checksum.finish(Checksum.add(b, i, icmpLength, 0)));
        }
        ctx.output().commit(IpWriter.headerLength(v6) + icmpLength);
    }

    /** The first bytes of a TCP SYN the board sent: IP header and the TCP ports and sequence. */
    static byte[] quoteOfSyn(FlowKey key, int seq) {
        boolean v6 = key.isIpv6();
        int header = IpWriter.headerLength(v6);
        ByteBuffer b = ByteBuffer.allocate(header + 8);
        IpWriter.writeHeader(b, 0, key.boardAddress(), key.remoteAddress(), IpProtocol.TCP, 20, 0);
        b.putShort(header, (short) key.boardPort()).putShort(header + 2, (short) key.remotePort()).putInt(header + 4, seq);
        return b.array();
    }
}
