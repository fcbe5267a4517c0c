// Writes TCP segments from a flow's remote end to the board, in place in the
// packet output: IP header, TCP header, options (SYN options, SACK blocks),
// then the caller's data and the checksum. Used by flows and by the stateless
// resets of TcpTable.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;

import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.IpWriter;
import dev.qbkit.qbnet.packet.TcpHeader;

final class TcpWriter {
    private TcpWriter() {
    }

    /** Total IP packet length of a segment. */
    static int packetLength(FlowKey key, int optionsLength, int payloadLength) {
        return IpWriter.headerLength(key.isIpv6()) + TcpHeader.MIN_LENGTH + optionsLength + payloadLength;
    }

    /**
     * Begins a segment in {@code out} and writes its IP and TCP headers.
     *
     * @return the absolute index of the TCP header; options go at +20
     */
    static int begin(NatContext ctx, FlowKey key, int seq, int ack, int flags, int window, int optionsLength,
            int payloadLength) {
        return begin(ctx, key, seq, ack, flags, window, optionsLength, payloadLength, false);
    }

    /** As above; {@code offload}: in an offload frame, whose checksum the board completes. */
    static int begin(NatContext ctx, FlowKey key, int seq, int ack, int flags, int window, int optionsLength,
            int payloadLength, boolean offload) {
        PacketOutput out = ctx.output();
        int tcpLength = TcpHeader.MIN_LENGTH + optionsLength + payloadLength;
        int ipLength = IpWriter.headerLength(key.isIpv6()) + tcpLength;
        int at = offload ? out.beginOffload(ipLength) : out.begin(ipLength);
        ByteBuffer b = out.buffer();
        int t = at + IpWriter.writeHeader(b, at, key.remoteAddress(), key.boardAddress(), IpProtocol.TCP, tcpLength,
                ctx.nextIpId());
        b.putShort(t, (short) key.remotePort());
        b.putShort(t + 2, (short) key.boardPort());
        b.putInt(t + 4, seq);
        b.putInt(t + 8, ack);
        b.put(t + 12, (byte) (((TcpHeader.MIN_LENGTH + optionsLength) / 4) << 4));
        b.put(t + 13, (byte) flags);
        b.putShort(t + 14, (short) window);
        b.putInt(t + 16, 0); // checksum, urgent pointer
        return t;
    }

    /**
     * Commits an offload segment: the checksum field gets the pseudo-header
     * sum only (the board's kernel completes it), and segments bigger than
     * {@code gsoSize} bytes of payload are cut by the board's kernel.
     */
    static void finishOffload(NatContext ctx, FlowKey key, int tcpOffset, int optionsLength, int payloadLength,
            int gsoSize) {
        PacketOutput out = ctx.output();
        boolean ipv6 = key.isIpv6();
        int header = IpWriter.headerLength(ipv6);
        int ipOffset = tcpOffset - header;
        int tcpLength = TcpHeader.MIN_LENGTH + optionsLength + payloadLength;
        ByteBuffer b = out.buffer();
        long pseudo = dev.qbkit.qbnet.packet.Checksum.pseudoHeader(b, ipOffset, ipv6, IpProtocol.TCP, tcpLength);
        b.putShort(tcpOffset + 16, (short) ~dev.qbkit.qbnet.packet.Checksum.finish(pseudo));
        out.commitOffload(header + tcpLength, payloadLength > gsoSize ? gsoSize : 0, header, 16);
    }

    /** Checksums the segment begun at {@code tcpOffset} and commits the packet. */
    static void finish(NatContext ctx, FlowKey key, int tcpOffset, int optionsLength, int payloadLength) {
        PacketOutput out = ctx.output();
        boolean ipv6 = key.isIpv6();
        int ipOffset = tcpOffset - IpWriter.headerLength(ipv6);
        int tcpLength = TcpHeader.MIN_LENGTH + optionsLength + payloadLength;
        IpWriter.fillTransportChecksum(out.buffer(), ipOffset, ipv6, IpProtocol.TCP, tcpLength, 16);
        out.commit(IpWriter.headerLength(ipv6) + tcpLength);
    }

    /** Bytes of options in our SYN or SYN-ACK: MSS, then SACK permitted and window scale when offered. */
    static int synOptionsLength(boolean sackPermitted, boolean windowScale) {
        return 4 + (sackPermitted ? 4 : 0) + (windowScale ? 4 : 0);
    }

    /** Bytes of a SACK option with {@code blocks} blocks (two NOPs for alignment), 0 for none. */
    static int sackOptionLength(int blocks) {
        return blocks > 0 ? 4 + 8 * blocks : 0;
    }

    /** Writes SYN options after the header at {@code tcpOffset}; {@code windowShift} < 0: no window scale. */
    static void writeSynOptions(ByteBuffer b, int tcpOffset, int mss, boolean sackPermitted, int windowShift) {
        int o = tcpOffset + TcpHeader.MIN_LENGTH;
        b.put(o, (byte) 2).put(o + 1, (byte) 4).putShort(o + 2, (short) mss);
        o += 4;
        if (sackPermitted) {
            b.put(o, (byte) 1).put(o + 1, (byte) 1).put(o + 2, (byte) 4).put(o + 3, (byte) 2);
            o += 4;
        }
        if (windowShift >= 0)
            b.put(o, (byte) 1).put(o + 1, (byte) 3).put(o + 2, (byte) 3).put(o + 3, (byte) windowShift);
    }

    /** Writes a SACK option (RFC 2018) of {@code count} [start, end) pairs from {@code blocks}. */
    static void writeSackOption(ByteBuffer b, int tcpOffset, int[] blocks, int count) {
        int o = tcpOffset + TcpHeader.MIN_LENGTH;
        b.put(o, (byte) 1).put(o + 1, (byte) 1).put(o + 2, (byte) 5).put(o + 3, (byte) (2 + 8 * count));
        for (int k = 0; k < count; k++)
            b.putInt(o + 4 + 8 * k, blocks[2 * k]).putInt(o + 8 + 8 * k, blocks[2 * k + 1]);
    }
}
