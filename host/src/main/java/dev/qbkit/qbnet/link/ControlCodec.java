// Encoder and strict decoder of channel-0 control messages: a u16 type then
// TLVs (u16 tag, u16 length, value), little-endian. Decoding follows the
// malformed-message rules of doc/PROTOCOL.md section 4 exactly.
package dev.qbkit.qbnet.link;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import dev.qbkit.qbnet.link.ControlMessage.Config;
import dev.qbkit.qbnet.link.ControlMessage.Hello;
import dev.qbkit.qbnet.link.ControlMessage.Ipv4Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Ipv6Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Keepalive;

public final class ControlCodec {
    public static final int MAX_PAYLOAD = 1024;
    public static final int MAX_STRING = 64;
    public static final int MAX_ERROR_TEXT = 256;
    public static final int MAX_DNS = 4;
    public static final int MIN_MTU = 576;
    public static final int MIN_MTU_IPV6 = 1280;

    static final int TAG_VERSION = 1;
    static final int TAG_ROLE = 2;
    static final int TAG_MAX_BUNDLE = 3;
    static final int TAG_MTU = 4;
    static final int TAG_SERIAL = 5;
    static final int TAG_SOFTWARE = 6;
    static final int TAG_CAPS = 7;
    static final int TAG_INSTANCE = 8;
    static final int TAG_IPV4_ADDRESS = 16;
    static final int TAG_IPV4_GATEWAY = 17;
    static final int TAG_IPV4_DNS = 18;
    static final int TAG_IPV6_ADDRESS = 32;
    static final int TAG_IPV6_GATEWAY = 33;
    static final int TAG_IPV6_DNS = 34;
    static final int TAG_SEQ = 48;
    static final int TAG_ECHO = 49;
    static final int TAG_ERROR_CODE = 64;
    static final int TAG_ERROR_TEXT = 65;

    /** The outcome of decoding: exactly one of message, unknownType or malformed is set. */
    public record Decoded(ControlMessage message, int unknownType, String malformed) {
        static Decoded ok(ControlMessage message) {
            return new Decoded(message, -1, null);
        }

        static Decoded unknown(int type) {
            return new Decoded(null, type, null);
        }

        static Decoded malformed(String why) {
            return new Decoded(null, -1, why);
        }

        public boolean isOk() {
            return message != null;
        }
    }

    /** Thrown inside the decoder; never escapes it. */
    private static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private ControlCodec() {
    }

    // ---- decoding -------------------------------------------------------

    public static Decoded decode(ByteBuffer buf, int offset, int length) {
        if (length < 2)
            return Decoded.malformed("shorter than its type field");
        if (length > MAX_PAYLOAD)
            return Decoded.malformed("longer than " + MAX_PAYLOAD + " bytes");
        int type = LittleEndian.u16(buf, offset);
        try {
            Tlvs tlvs = new Tlvs(buf, offset + 2, length - 2);
            return switch (type) {
                case ControlMessage.TYPE_HELLO -> Decoded.ok(decodeHello(tlvs));
                case ControlMessage.TYPE_CONFIG -> Decoded.ok(decodeConfig(tlvs));
                case ControlMessage.TYPE_KEEPALIVE -> Decoded.ok(decodeKeepalive(tlvs));
                case ControlMessage.TYPE_ERROR -> Decoded.ok(decodeError(tlvs));
                default -> Decoded.unknown(type);
            };
        } catch (Malformed e) {
            return Decoded.malformed(e.getMessage());
        }
    }

    public static Decoded decode(byte[] payload) {
        return decode(ByteBuffer.wrap(payload), 0, payload.length);
    }

    /** The TLVs of one message, checked for framing up front. */
    private static final class Tlvs {
        private final ByteBuffer buf;
        private final int start;
        private final int end;

        Tlvs(ByteBuffer buf, int start, int length) throws Malformed {
            this.buf = buf;
            this.start = start;
            this.end = start + length;
            int pos = start;
            while (pos < end) {
                if (end - pos < 4)
                    throw new Malformed("TLV header runs past the message");
                int valueLength = LittleEndian.u16(buf, pos + 2);
                pos += 4 + valueLength;
                if (pos > end)
                    throw new Malformed("TLV value runs past the message");
            }
        }

        /** Index of the value of the only TLV with {@code tag}, or -1. */
        int single(int tag) throws Malformed {
            int found = -1;
            for (int pos = start; pos < end; pos += 4 + LittleEndian.u16(buf, pos + 2)) {
                if (LittleEndian.u16(buf, pos) != tag)
                    continue;
                if (found >= 0)
                    throw new Malformed("tag " + tag + " appears twice");
                found = pos;
            }
            return found;
        }

        int required(int tag, String name) throws Malformed {
            int at = single(tag);
            if (at < 0)
                throw new Malformed("missing " + name);
            return at;
        }

        List<Integer> all(int tag) {
            List<Integer> found = new ArrayList<>();
            for (int pos = start; pos < end; pos += 4 + LittleEndian.u16(buf, pos + 2))
                if (LittleEndian.u16(buf, pos) == tag)
                    found.add(pos);
            return found;
        }

        int length(int at) {
            return LittleEndian.u16(buf, at + 2);
        }

        void expectLength(int at, int expected, String name) throws Malformed {
            if (length(at) != expected)
                throw new Malformed(name + " has length " + length(at) + ", expected " + expected);
        }

        int u8(int at, String name) throws Malformed {
            expectLength(at, 1, name);
            return Byte.toUnsignedInt(buf.get(at + 4));
        }

        int u16(int at, String name) throws Malformed {
            expectLength(at, 2, name);
            return LittleEndian.u16(buf, at + 4);
        }

        long u32(int at, String name) throws Malformed {
            expectLength(at, 4, name);
            return LittleEndian.u32(buf, at + 4);
        }

        long u64(int at, String name) throws Malformed {
            expectLength(at, 8, name);
            return LittleEndian.u32(buf, at + 4) | LittleEndian.u32(buf, at + 8) << 32;
        }

        String string(int at, int minLength, int maxLength, String name) throws Malformed {
            int length = length(at);
            if (length < minLength || length > maxLength)
                throw new Malformed(name + " length " + length + " outside " + minLength + ".." + maxLength);
            byte[] bytes = new byte[length];
            buf.get(at + 4, bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        byte[] bytes(int at, int length, String name) throws Malformed {
            expectLength(at, length, name);
            byte[] bytes = new byte[length];
            buf.get(at + 4, bytes);
            return bytes;
        }
    }

    private static Hello decodeHello(Tlvs tlvs) throws Malformed {
        int versionAt = tlvs.required(TAG_VERSION, "VERSION");
        tlvs.expectLength(versionAt, 4, "VERSION");
        int versionMin = LittleEndian.u16(tlvs.buf, versionAt + 4);
        int versionMax = LittleEndian.u16(tlvs.buf, versionAt + 6);
        if (versionMin < 1 || versionMin > versionMax)
            throw new Malformed("VERSION range " + versionMin + "-" + versionMax + " is empty");
        int role = tlvs.u8(tlvs.required(TAG_ROLE, "ROLE"), "ROLE");
        if (role != ControlMessage.ROLE_BOARD && role != ControlMessage.ROLE_HOST)
            throw new Malformed("ROLE " + role + " is neither board (1) nor host (2)");
        long maxBundle = tlvs.u32(tlvs.required(TAG_MAX_BUNDLE, "MAX_BUNDLE"), "MAX_BUNDLE");
        if (maxBundle < Bundles.MIN_ADVERTISED_MAX || maxBundle > Bundles.ABSOLUTE_MAX)
            throw new Malformed("MAX_BUNDLE " + maxBundle + " outside " + Bundles.MIN_ADVERTISED_MAX + ".."
                    + Bundles.ABSOLUTE_MAX);
        int mtuAt = tlvs.single(TAG_MTU);
        int mtu = mtuAt < 0 ? 0 : checkMtu(tlvs.u16(mtuAt, "MTU"), MIN_MTU);
        int serialAt = tlvs.single(TAG_SERIAL);
        String serial = serialAt < 0 ? null : tlvs.string(serialAt, 1, MAX_STRING, "SERIAL");
        int softwareAt = tlvs.single(TAG_SOFTWARE);
        String software = softwareAt < 0 ? null : tlvs.string(softwareAt, 1, MAX_STRING, "SOFTWARE");
        int capsAt = tlvs.single(TAG_CAPS);
        long caps = capsAt < 0 ? 0 : tlvs.u32(capsAt, "CAPS");
        int instanceAt = tlvs.single(TAG_INSTANCE);
        long instance = instanceAt < 0 ? 0 : tlvs.u64(instanceAt, "INSTANCE");
        if (instanceAt >= 0 && instance == 0)
            throw new Malformed("INSTANCE is 0");
        return new Hello(versionMin, versionMax, role, maxBundle, mtu, serial, software, caps, instance);
    }

    private static int checkMtu(int mtu, int min) throws Malformed {
        if (mtu < min)
            throw new Malformed("MTU " + mtu + " below " + min);
        return mtu;
    }

    private static Config decodeConfig(Tlvs tlvs) throws Malformed {
        int mtu = tlvs.u16(tlvs.required(TAG_MTU, "MTU"), "MTU");
        int v4At = tlvs.required(TAG_IPV4_ADDRESS, "IPV4_ADDRESS");
        tlvs.expectLength(v4At, 5, "IPV4_ADDRESS");
        Ipv4Prefix ipv4 = new Ipv4Prefix(inet4(tlvs, v4At, 4), prefix(tlvs, v4At + 8, 30));
        int gw4At = tlvs.single(TAG_IPV4_GATEWAY);
        Inet4Address gateway4 = gw4At < 0 ? null : inet4(tlvs.bytes(gw4At, 4, "IPV4_GATEWAY"));
        List<Inet4Address> dns4 = new ArrayList<>();
        for (int at : dnsTlvs(tlvs, TAG_IPV4_DNS))
            dns4.add(inet4(tlvs.bytes(at, 4, "IPV4_DNS")));
        Ipv6Prefix ipv6 = null;
        int v6At = tlvs.single(TAG_IPV6_ADDRESS);
        if (v6At >= 0) {
            tlvs.expectLength(v6At, 17, "IPV6_ADDRESS");
            ipv6 = new Ipv6Prefix(inet6(tlvs, v6At), prefix(tlvs, v6At + 20, 128));
        }
        checkMtu(mtu, ipv6 != null ? MIN_MTU_IPV6 : MIN_MTU);
        int gw6At = tlvs.single(TAG_IPV6_GATEWAY);
        Inet6Address gateway6 = gw6At < 0 ? null : inet6(tlvs.bytes(gw6At, 16, "IPV6_GATEWAY"));
        List<Inet6Address> dns6 = new ArrayList<>();
        for (int at : dnsTlvs(tlvs, TAG_IPV6_DNS))
            dns6.add(inet6(tlvs.bytes(at, 16, "IPV6_DNS")));
        return new Config(mtu, ipv4, gateway4, dns4, ipv6, gateway6, dns6);
    }

    private static List<Integer> dnsTlvs(Tlvs tlvs, int tag) throws Malformed {
        List<Integer> all = tlvs.all(tag);
        if (all.size() > MAX_DNS)
            throw new Malformed(all.size() + " DNS servers, at most " + MAX_DNS);
        return all;
    }

    private static int prefix(Tlvs tlvs, int index, int max) throws Malformed {
        int prefix = Byte.toUnsignedInt(tlvs.buf.get(index));
        if (prefix < 1 || prefix > max)
            throw new Malformed("prefix length " + prefix + " outside 1.." + max);
        return prefix;
    }

    private static Inet4Address inet4(Tlvs tlvs, int at, int length) {
        byte[] bytes = new byte[length];
        tlvs.buf.get(at + 4, bytes);
        return inet4(bytes);
    }

    private static Inet6Address inet6(Tlvs tlvs, int at) {
        byte[] bytes = new byte[16];
        tlvs.buf.get(at + 4, bytes);
        return inet6(bytes);
    }

    static Inet4Address inet4(byte[] bytes) {
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static Inet6Address inet6(byte[] bytes) {
        try {
            return Inet6Address.getByAddress(null, bytes, -1);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static Keepalive decodeKeepalive(Tlvs tlvs) throws Malformed {
        long seq = tlvs.u32(tlvs.required(TAG_SEQ, "SEQ"), "SEQ");
        int echoAt = tlvs.single(TAG_ECHO);
        long echo = echoAt < 0 ? -1 : tlvs.u32(echoAt, "ECHO");
        return new Keepalive(seq, echo);
    }

    private static ControlMessage.Error decodeError(Tlvs tlvs) throws Malformed {
        int code = tlvs.u16(tlvs.required(TAG_ERROR_CODE, "ERROR_CODE"), "ERROR_CODE");
        int textAt = tlvs.single(TAG_ERROR_TEXT);
        String text = textAt < 0 ? null : tlvs.string(textAt, 0, MAX_ERROR_TEXT, "ERROR_TEXT");
        return new ControlMessage.Error(code, text);
    }

    // ---- encoding -------------------------------------------------------

    /** Encodes a message with its tags in ascending order. */
    public static byte[] encode(ControlMessage message) {
        Writer w = new Writer();
        switch (message) {
            case Hello h -> {
                w.u16(ControlMessage.TYPE_HELLO);
                w.tlv(TAG_VERSION, le16(h.versionMin()), le16(h.versionMax()));
                w.tlv(TAG_ROLE, new byte[] { (byte) h.role() });
                w.tlv(TAG_MAX_BUNDLE, le32(h.maxBundle()));
                if (h.mtu() != 0)
                    w.tlv(TAG_MTU, le16(h.mtu()));
                if (h.serial() != null)
                    w.tlv(TAG_SERIAL, truncated(h.serial(), MAX_STRING));
                if (h.software() != null)
                    w.tlv(TAG_SOFTWARE, truncated(h.software(), MAX_STRING));
                if (h.caps() != 0)
                    w.tlv(TAG_CAPS, le32(h.caps()));
                if (h.instance() != 0)
                    w.tlv(TAG_INSTANCE, le32(h.instance()), le32(h.instance() >>> 32));
            }
            case Config c -> {
                w.u16(ControlMessage.TYPE_CONFIG);
                w.tlv(TAG_MTU, le16(c.mtu()));
                w.tlv(TAG_IPV4_ADDRESS, c.ipv4().address().getAddress(), new byte[] { (byte) c.ipv4().prefixLength() });
                if (c.gateway4() != null)
                    w.tlv(TAG_IPV4_GATEWAY, c.gateway4().getAddress());
                for (Inet4Address dns : c.dns4())
                    w.tlv(TAG_IPV4_DNS, dns.getAddress());
                if (c.ipv6() != null)
                    w.tlv(TAG_IPV6_ADDRESS, c.ipv6().address().getAddress(), new byte[] { (byte) c.ipv6().prefixLength() });
                if (c.gateway6() != null)
                    w.tlv(TAG_IPV6_GATEWAY, c.gateway6().getAddress());
                for (Inet6Address dns : c.dns6())
                    w.tlv(TAG_IPV6_DNS, dns.getAddress());
            }
            case Keepalive k -> {
                w.u16(ControlMessage.TYPE_KEEPALIVE);
                w.tlv(TAG_SEQ, le32(k.seq()));
                if (k.isReply())
                    w.tlv(TAG_ECHO, le32(k.echo()));
            }
            case ControlMessage.Error e -> {
                w.u16(ControlMessage.TYPE_ERROR);
                w.tlv(TAG_ERROR_CODE, le16(e.code()));
                if (e.text() != null)
                    w.tlv(TAG_ERROR_TEXT, truncated(e.text(), MAX_ERROR_TEXT));
            }
        }
        return w.out.toByteArray();
    }

    /** UTF-8 bytes cut at a character boundary so they fit {@code max} bytes. */
    private static byte[] truncated(String s, int max) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= max)
            return bytes;
        int cut = max;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
            cut--;
        return java.util.Arrays.copyOf(bytes, cut);
    }

    private static byte[] le16(int v) {
        return new byte[] { (byte) v, (byte) (v >>> 8) };
    }

    private static byte[] le32(long v) {
        return new byte[] { (byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24) };
    }

    private static final class Writer {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(64);

        void u16(int v) {
            out.writeBytes(le16(v));
        }

        void tlv(int tag, byte[]... parts) {
            int length = 0;
            for (byte[] p : parts)
                length += p.length;
            u16(tag);
            u16(length);
            for (byte[] p : parts)
                out.writeBytes(p);
        }
    }
}
