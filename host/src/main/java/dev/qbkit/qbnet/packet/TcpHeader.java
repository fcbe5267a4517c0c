// A parsed view of a TCP header (RFC 9293) and the SYN options the NAT
// negotiates: MSS, window scale and SACK-permitted. Reused per packet.
package dev.qbkit.qbnet.packet;

import java.nio.ByteBuffer;

public final class TcpHeader {
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int MIN_LENGTH = 20;

    private int sourcePort;
    private int destinationPort;
    private int seq;
    private int ack;
    private int flags;
    private int window;
    private int mss;
    private int windowScale;
    private boolean sackPermitted;
    private int payloadOffset;
    private int payloadLength;

    /** Parses the TCP header at {@code offset}; false when malformed. */
    public boolean parse(ByteBuffer buf, int offset, int length) {
        if (length < MIN_LENGTH)
            return false;
        int headerLength = (Byte.toUnsignedInt(buf.get(offset + 12)) >>> 4) * 4;
        if (headerLength < MIN_LENGTH || headerLength > length)
            return false;
        sourcePort = Short.toUnsignedInt(buf.getShort(offset));
        destinationPort = Short.toUnsignedInt(buf.getShort(offset + 2));
        seq = buf.getInt(offset + 4);
        ack = buf.getInt(offset + 8);
        flags = Byte.toUnsignedInt(buf.get(offset + 13));
        window = Short.toUnsignedInt(buf.getShort(offset + 14));
        payloadOffset = offset + headerLength;
        payloadLength = length - headerLength;
        mss = -1;
        windowScale = -1;
        sackPermitted = false;
        if ((flags & SYN) != 0)
            parseOptions(buf, offset + MIN_LENGTH, offset + headerLength);
        return true;
    }

    private void parseOptions(ByteBuffer buf, int pos, int end) {
        while (pos < end) {
            int kind = Byte.toUnsignedInt(buf.get(pos));
            if (kind == 0)
                return;
            if (kind == 1) {
                pos++;
                continue;
            }
            if (pos + 1 >= end)
                return;
            int length = Byte.toUnsignedInt(buf.get(pos + 1));
            if (length < 2 || pos + length > end)
                return; // malformed options: ignore the rest, keep defaults
            if (kind == 2 && length == 4)
                mss = Short.toUnsignedInt(buf.getShort(pos + 2));
            else if (kind == 3 && length == 3)
                windowScale = Math.min(14, Byte.toUnsignedInt(buf.get(pos + 2)));
            else if (kind == 4 && length == 2)
                sackPermitted = true;
            pos += length;
        }
    }

    public int sourcePort() {
        return sourcePort;
    }

    public int destinationPort() {
        return destinationPort;
    }

    public int seq() {
        return seq;
    }

    public int ack() {
        return ack;
    }

    public int flags() {
        return flags;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    public int window() {
        return window;
    }

    /** MSS option of a SYN, or -1. */
    public int mss() {
        return mss;
    }

    /** Window scale option of a SYN (capped at 14), or -1. */
    public int windowScale() {
        return windowScale;
    }

    public boolean sackPermitted() {
        return sackPermitted;
    }

    public int payloadOffset() {
        return payloadOffset;
    }

    public int payloadLength() {
        return payloadLength;
    }

    /** Sequence space the segment occupies: payload plus one for SYN and for FIN. */
    public int segmentLength() {
        return payloadLength + ((flags & SYN) != 0 ? 1 : 0) + ((flags & FIN) != 0 ? 1 : 0);
    }
}
