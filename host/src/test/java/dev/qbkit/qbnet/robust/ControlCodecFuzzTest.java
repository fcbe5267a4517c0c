// Fuzz tests of the channel-0 control codec: any payload decodes to exactly
// one outcome without throwing, and whatever decodes keeps doc/PROTOCOL.md
// section 4's ranges and survives re-encoding unchanged.
package dev.qbkit.qbnet.robust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.link.ControlMessage.Config;
import dev.qbkit.qbnet.link.ControlMessage.Hello;
import dev.qbkit.qbnet.link.ControlMessage.Ipv4Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Ipv6Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Keepalive;
import dev.qbkit.qbnet.link.VectorFile;

class ControlCodecFuzzTest {
    /** Input: the payload's offset in its buffer (0..24), then the payload. */
    @FuzzTest
    void anyPayloadDecodesToExactlyOneOutcome(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int offset = in.between(0, 24);
        byte[] payload = in.rest();
        ByteBuffer buf = BundleFuzzTest.embedded(payload, offset, 8, false);
        ControlCodec.Decoded d = ControlCodec.decode(buf, offset, payload.length);
        int outcomes = (d.message() != null ? 1 : 0) + (d.unknownType() >= 0 ? 1 : 0) + (d.malformed() != null ? 1 : 0);
        assertEquals(1, outcomes, "decoded " + d);
        if (payload.length > ControlCodec.MAX_PAYLOAD || payload.length < 2 || !tlvsFit(payload))
            assertNotNull(d.malformed(), "a payload of " + payload.length + " bytes whose TLVs "
                    + (tlvsFit(payload) ? "fit" : "run past its end") + " must be malformed");
        if (d.unknownType() >= 0)
            assertTrue(d.unknownType() < 1 || d.unknownType() > 4, "a known type was called unknown");
        if (!d.isOk())
            return;
        ControlMessage m = d.message();
        assertWithinProtocolRanges(m);
        int type = (payload[0] & 0xff) | (payload[1] & 0xff) << 8;
        assertEquals(type, typeOf(m), "decoded as another type");
        byte[] again = ControlCodec.encode(m);
        ControlCodec.Decoded redecoded = ControlCodec.decode(again);
        assertEquals(m, redecoded.message(), "re-encoding changed the message; malformed: " + redecoded.malformed());
        assertTrue(again.length <= ControlCodec.MAX_PAYLOAD);
    }

    /** Whether the TLVs after the type fill the payload exactly (section 4's framing, written apart from the codec). */
    static boolean tlvsFit(byte[] p) {
        int pos = 2;
        while (pos < p.length) {
            if (p.length - pos < 4)
                return false;
            pos += 4 + ((p[pos + 2] & 0xff) | (p[pos + 3] & 0xff) << 8);
        }
        return pos == p.length || p.length < 2;
    }

    static int typeOf(ControlMessage m) {
        return switch (m) {
            case Hello h -> ControlMessage.TYPE_HELLO;
            case Config c -> ControlMessage.TYPE_CONFIG;
            case Keepalive k -> ControlMessage.TYPE_KEEPALIVE;
            case ControlMessage.Error e -> ControlMessage.TYPE_ERROR;
        };
    }

    /** What section 4 promises a receiver about any message it accepted. */
    static void assertWithinProtocolRanges(ControlMessage m) {
        switch (m) {
            case Hello h -> {
                assertTrue(h.versionMin() >= 1 && h.versionMin() <= h.versionMax() && h.versionMax() <= 0xffff, "VERSION");
                assertTrue(h.role() == ControlMessage.ROLE_BOARD || h.role() == ControlMessage.ROLE_HOST, "ROLE");
                assertTrue(h.maxBundle() >= Bundles.MIN_ADVERTISED_MAX && h.maxBundle() <= Bundles.ABSOLUTE_MAX,
                        "MAX_BUNDLE " + h.maxBundle());
                assertTrue(h.mtu() == 0 || h.mtu() >= ControlCodec.MIN_MTU && h.mtu() <= 65535, "MTU " + h.mtu());
                assertStringBytes(h.serial(), 1, ControlCodec.MAX_STRING, "SERIAL");
                assertStringBytes(h.software(), 1, ControlCodec.MAX_STRING, "SOFTWARE");
                assertTrue(h.caps() >= 0 && h.caps() <= 0xffffffffL, "CAPS");
            }
            case Config c -> {
                assertTrue(c.mtu() >= (c.ipv6() != null ? ControlCodec.MIN_MTU_IPV6 : ControlCodec.MIN_MTU)
                        && c.mtu() <= 65535, "MTU " + c.mtu());
                assertNotNull(c.ipv4(), "IPV4_ADDRESS");
                assertTrue(c.ipv4().prefixLength() >= 1 && c.ipv4().prefixLength() <= 30, "IPv4 prefix");
                assertTrue(c.ipv6() == null || c.ipv6().prefixLength() >= 1 && c.ipv6().prefixLength() <= 128, "IPv6 prefix");
                assertTrue(c.dns4().size() <= ControlCodec.MAX_DNS && c.dns6().size() <= ControlCodec.MAX_DNS, "DNS count");
            }
            case Keepalive k -> assertTrue(k.seq() >= 0 && k.seq() <= 0xffffffffL && k.echo() >= -1
                    && k.echo() <= 0xffffffffL, "SEQ/ECHO");
            case ControlMessage.Error e -> {
                assertTrue(e.code() >= 0 && e.code() <= 0xffff, "ERROR_CODE");
                if (e.text() != null)
                    assertStringBytes(e.text(), 0, ControlCodec.MAX_ERROR_TEXT, "ERROR_TEXT");
            }
        }
    }

    private static void assertStringBytes(String s, int min, int max, String what) {
        if (s == null)
            return;
        // Invalid UTF-8 decodes with replacement characters, which may take more bytes than the wire did.
        int wire = s.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(wire >= min && (wire <= max || s.indexOf('\uFFFD') >= 0), what + " of " + wire + " bytes");
    }

    /** Seeds: every control vector, at offset 0 and at offset 7. */
    static Map<String, byte[]> payloadSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        for (VectorFile.Vector v : VectorFile.load("control")) {
            seeds.put("vector-" + v.name(), new FuzzInput.Writer().between(0, 24, 0).bytes(v.hex()).toByteArray());
            seeds.put("vector-" + v.name() + "-at-7", new FuzzInput.Writer().between(0, 24, 7).bytes(v.hex()).toByteArray());
        }
        return seeds;
    }

    // ---- valid messages round-trip -----------------------------------------

    /** A string of {@code minBytes..maxBytes} UTF-8 bytes, of any code points but U+FFFD and surrogates. */
    static String text(FuzzInput in, int minBytes, int maxBytes) {
        StringBuilder s = new StringBuilder();
        int bytes = 0;
        int wanted = in.between(minBytes, maxBytes);
        while (bytes < wanted) {
            int cp = switch (in.between(0, 3)) {
                case 0 -> in.between(0x20, 0x7e);
                case 1 -> in.between(0, 0x7ff);
                case 2 -> in.between(0x800, 0xd7ff);
                default -> in.between(0x10000, 0x10ffff);
            };
            int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + size > maxBytes)
                break;
            s.appendCodePoint(cp);
            bytes += size;
        }
        while (bytes < minBytes) {
            s.append('q');
            bytes++;
        }
        return s.toString();
    }

    static InetAddress address(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code size} bytes; zeros where the input has ended. */
    static byte[] raw(FuzzInput in, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++)
            b[i] = (byte) in.u8();
        return b;
    }

    static Inet4Address v4(FuzzInput in) {
        return (Inet4Address) address(raw(in, 4));
    }

    static Inet6Address v6(FuzzInput in) {
        try {
            return Inet6Address.getByAddress(null, raw(in, 16), -1);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A message within section 4's ranges, every field from the input. */
    static ControlMessage message(FuzzInput in) {
        return switch (in.between(0, 3)) {
            case 0 -> {
                int min = in.between(1, 0xffff);
                int max = in.between(min, 0xffff);
                int role = in.bool() ? ControlMessage.ROLE_BOARD : ControlMessage.ROLE_HOST;
                long maxBundle = in.between(Bundles.MIN_ADVERTISED_MAX, Bundles.ABSOLUTE_MAX);
                int mtu = in.bool() ? 0 : in.between(ControlCodec.MIN_MTU, 65535);
                String serial = in.bool() ? null : text(in, 1, ControlCodec.MAX_STRING);
                String software = in.bool() ? null : text(in, 1, ControlCodec.MAX_STRING);
                long caps = in.u32();
                long instance = in.bool() ? in.u32() << 32 | in.u32() : 0; // 0: no INSTANCE tag
                yield new Hello(min, max, role, maxBundle, mtu, serial, software, caps, instance);
            }
            case 1 -> {
                int mtu = in.between(ControlCodec.MIN_MTU_IPV6, 65535);
                Ipv4Prefix ipv4 = new Ipv4Prefix(v4(in), in.between(1, 30));
                Inet4Address gateway = in.bool() ? null : v4(in);
                List<Inet4Address> dns4 = new ArrayList<>();
                for (int n = in.between(0, ControlCodec.MAX_DNS); n > 0; n--)
                    dns4.add(v4(in));
                Ipv6Prefix ipv6 = in.bool() ? null : new Ipv6Prefix(v6(in), in.between(1, 128));
                Inet6Address gateway6 = in.bool() ? null : v6(in);
                List<Inet6Address> dns6 = new ArrayList<>();
                for (int n = in.between(0, ControlCodec.MAX_DNS); n > 0; n--)
                    dns6.add(v6(in));
                yield new Config(mtu, ipv4, gateway, dns4, ipv6, gateway6, dns6);
            }
            case 2 -> new Keepalive(in.u32(), in.bool() ? -1 : in.u32());
            default -> new ControlMessage.Error(in.u16(), in.bool() ? null : text(in, 0, ControlCodec.MAX_ERROR_TEXT));
        };
    }

    /** Input: the fields of one valid HELLO, CONFIG, KEEPALIVE or ERROR (see message()). */
    @FuzzTest
    void validMessagesRoundTrip(byte[] data) {
        ControlMessage m = message(new FuzzInput(data));
        byte[] wire = ControlCodec.encode(m);
        ControlCodec.Decoded d = ControlCodec.decode(wire);
        assertNull(d.malformed(), "a valid " + m + " decoded as malformed");
        assertEquals(m, d.message());
    }

    /** Seeds: one message of each type, with the optional fields present and absent. */
    static Map<String, byte[]> messageSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        byte[] serial = "QB-0001".getBytes(StandardCharsets.US_ASCII);
        FuzzInput.Writer hello = new FuzzInput.Writer().between(0, 3, 0).between(1, 0xffff, 1).between(1, 0xffff, 1)
                .bool(true).between(Bundles.MIN_ADVERTISED_MAX, Bundles.ABSOLUTE_MAX, 262144).bool(false)
                .between(ControlCodec.MIN_MTU, 65535, 65520).bool(false).between(1, ControlCodec.MAX_STRING, serial.length);
        for (byte c : serial)
            hello.between(0, 3, 0).between(0x20, 0x7e, c);
        seeds.put("hello-board", hello.bool(true).u32(3).toByteArray());
        FuzzInput.Writer host = new FuzzInput.Writer().between(0, 3, 0).between(1, 0xffff, 1).between(1, 0xffff, 1)
                .bool(false).between(Bundles.MIN_ADVERTISED_MAX, Bundles.ABSOLUTE_MAX, 262144).bool(true).bool(true)
                .bool(true).u32(1).bool(true).u32(0x8000_0000L).u32(1);
        seeds.put("hello-host-instance", host.toByteArray());
        FuzzInput.Writer config = new FuzzInput.Writer().between(0, 3, 1).between(ControlCodec.MIN_MTU_IPV6, 65535, 1500)
                .bytes(new byte[] { 10, 113, 98, 2 }).between(1, 30, 24).bool(false).bytes(new byte[] { 10, 113, 98, 1 })
                .between(0, ControlCodec.MAX_DNS, 1).bytes(new byte[] { 10, 113, 98, 3 }).bool(false)
                .bytes(new byte[] { (byte) 0xfd, 0x71, 0x62, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 }).between(1, 128, 64)
                .bool(true).between(0, ControlCodec.MAX_DNS, 0);
        seeds.put("config-dual-stack", config.toByteArray());
        seeds.put("keepalive-reply", new FuzzInput.Writer().between(0, 3, 2).u32(0xfffffffeL).bool(false).u32(7).toByteArray());
        seeds.put("error-no-text", new FuzzInput.Writer().between(0, 3, 3).u16(2).bool(true).toByteArray());
        return seeds;
    }

    @Test
    void seedInputsAreCurrent() {
        FuzzSeeds.check(ControlCodecFuzzTest.class, "anyPayloadDecodesToExactlyOneOutcome", payloadSeeds());
        FuzzSeeds.check(ControlCodecFuzzTest.class, "validMessagesRoundTrip", messageSeeds());
    }
}
