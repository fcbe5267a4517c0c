// Fuzz tests of the link decoder (Bundles.validate and forEachFrame): any
// bytes at any offset never throw, agree with a reference reading of
// doc/PROTOCOL.md section 2, and walk exactly the frames there are.
package dev.qbkit.qbnet.robust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.VectorFile;

class BundleFuzzTest {
    record Frame(int channel, int flags, byte[] payload) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Frame f && f.channel == channel && Arrays.equals(f.payload, payload);
        }

        @Override
        public int hashCode() {
            return channel * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return channel + ":" + payload.length;
        }
    }

    /** Every reason that applies to the bytes, per the protocol text; empty when the bundle is good. */
    static Set<BundleDrop> reasons(byte[] b, int max) {
        Set<BundleDrop> why = EnumSet.noneOf(BundleDrop.class);
        int n = b.length;
        if (n >= 2 && (b[0] != 0x71 || b[1] != 0x62))
            why.add(BundleDrop.BAD_MAGIC);
        if (n >= 3 && b[2] != 1)
            why.add(BundleDrop.BAD_FORMAT);
        if (n < 8) {
            why.add(BundleDrop.BAD_LENGTH);
            return why;
        }
        long declared = u32(b, 4);
        if (declared < 8 || declared > max || declared != n)
            why.add(BundleDrop.BAD_LENGTH);
        if (!why.isEmpty())
            return why;
        if (referenceFrames(b) == null)
            why.add(BundleDrop.TRUNCATED_FRAME);
        return why;
    }

    /** The frames of a bundle whose header is good, or null when a frame runs past the end. */
    static List<Frame> referenceFrames(byte[] b) {
        List<Frame> frames = new ArrayList<>();
        long pos = 8;
        while (pos < b.length) {
            if (b.length - pos < 8)
                return null;
            int channel = (b[(int) pos] & 0xff) | (b[(int) pos + 1] & 0xff) << 8;
            long length = u32(b, (int) pos + 4);
            if (pos + 8 + length > b.length)
                return null;
            frames.add(new Frame(channel, 0, Arrays.copyOfRange(b, (int) pos + 8, (int) (pos + 8 + length))));
            pos += 8 + length;
        }
        return frames;
    }

    static long u32(byte[] b, int at) {
        return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
    }

    /** The bytes placed at {@code offset} inside a larger buffer, with junk around them. */
    static ByteBuffer embedded(byte[] bytes, int offset, int slack, boolean direct) {
        ByteBuffer buf = direct ? ByteBuffer.allocateDirect(offset + bytes.length + slack)
                : ByteBuffer.allocate(offset + bytes.length + slack);
        for (int i = 0; i < buf.capacity(); i++)
            buf.put(i, (byte) 0xA5);
        buf.put(offset, bytes);
        return buf;
    }

    // ---- any bytes ------------------------------------------------------------

    private static final int[] LIMITS = { Bundles.INITIAL_MAX, 262144, Bundles.ABSOLUTE_MAX };

    /** Input: the receiver's limit (one of LIMITS, or any from 8 up), offset, slack, direct; then the bundle. */
    @FuzzTest
    void validateAgreesWithTheProtocolAndNeverThrows(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int limit = in.between(0, LIMITS.length);
        int max = limit < LIMITS.length ? LIMITS[limit] : in.between(8, Bundles.ABSOLUTE_MAX);
        int offset = in.between(0, 40);
        int slack = in.between(0, 16);
        boolean direct = in.bool();
        byte[] bytes = in.rest();
        ByteBuffer buf = embedded(bytes, offset, slack, direct);
        BundleDrop got = Bundles.validate(buf, offset, bytes.length, max);
        Set<BundleDrop> expected = reasons(bytes, max);
        if (expected.isEmpty()) {
            assertNull(got, "a good bundle was dropped");
            List<Frame> walked = new ArrayList<>();
            int count = Bundles.forEachFrame(buf, offset, bytes.length, (channel, b, at, length) -> {
                assertTrue(at >= offset + Bundles.HEADER_SIZE && at + length <= offset + bytes.length,
                        "frame payload outside the bundle");
                byte[] payload = new byte[length];
                b.get(at, payload);
                walked.add(new Frame(channel, 0, payload));
            });
            assertEquals(referenceFrames(bytes), walked);
            assertEquals(walked.size(), count);
        } else {
            assertNotNull(got, "a bad bundle was accepted; reasons: " + expected);
            assertTrue(expected.contains(got), got + " is not one of the reasons that apply: " + expected);
        }
    }

    /** Seeds: every bundle vector under its own receiver limit, at offset 0 and at an odd offset in a direct buffer. */
    static Map<String, byte[]> validateSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        for (VectorFile.Vector v : VectorFile.load("bundle")) {
            String max = v.get("max-bundle");
            for (boolean odd : new boolean[] { false, true }) {
                FuzzInput.Writer w = new FuzzInput.Writer();
                if (max == null)
                    w.between(0, LIMITS.length, 2); // ABSOLUTE_MAX, the vectors' default
                else
                    w.between(0, LIMITS.length, LIMITS.length).between(8, Bundles.ABSOLUTE_MAX, Integer.parseInt(max));
                w.between(0, 40, odd ? 13 : 0).between(0, 16, odd ? 5 : 0).bool(odd).bytes(v.hex());
                seeds.put("vector-" + v.name() + (odd ? "-at-13-direct" : ""), w.toByteArray());
            }
        }
        return seeds;
    }

    // ---- well-formed bundles ------------------------------------------------------

    static byte[] encode(List<Frame> frames) {
        int length = 8 + frames.stream().mapToInt(f -> 8 + f.payload.length).sum();
        ByteBuffer b = ByteBuffer.allocate(length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x71).put((byte) 0x62).put((byte) 1).put((byte) 0).putInt(length);
        for (Frame f : frames)
            b.putShort((short) f.channel).putShort((short) f.flags).putInt(f.payload.length).put(f.payload);
        return b.array();
    }

    /** Input: how much a transport cut off (1..40), then up to 12 frames: channel, flags, payload length, payload. */
    @FuzzTest
    void wellFormedBundlesAreAcceptedWholeAndCutOnesDropped(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int cut = in.between(1, 40);
        List<Frame> frames = new ArrayList<>();
        while (in.hasMore() && frames.size() < 12)
            frames.add(new Frame(in.u16(), in.u16(), in.bytes(in.between(0, 300))));
        byte[] bytes = encode(frames);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        assertNull(Bundles.validate(buf, 0, bytes.length, Bundles.ABSOLUTE_MAX));
        List<Frame> walked = new ArrayList<>();
        Bundles.forEachFrame(buf, 0, bytes.length, (channel, b, at, length) -> {
            byte[] payload = new byte[length];
            b.get(at, payload);
            walked.add(new Frame(channel, 0, payload));
        });
        assertEquals(frames, walked);
        // A transport that delivered fewer bytes than the header says: dropped, never half-applied.
        int shorter = Math.max(0, bytes.length - cut);
        assertNotNull(Bundles.validate(buf, 0, shorter, Bundles.ABSOLUTE_MAX));
        // A header that claims fewer bytes than the frames take: the last frame is cut.
        if (!frames.isEmpty() && frames.getLast().payload.length + 8 > cut) {
            byte[] lying = bytes.clone();
            ByteBuffer.wrap(lying).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(4, bytes.length - cut);
            assertEquals(BundleDrop.TRUNCATED_FRAME,
                    Bundles.validate(ByteBuffer.wrap(lying), 0, bytes.length - cut, Bundles.ABSOLUTE_MAX));
        }
    }

    /** Seeds: the frames of every good bundle vector, cut by 1 and by 9 bytes. */
    static Map<String, byte[]> wellFormedSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        for (VectorFile.Vector v : VectorFile.load("bundle")) {
            if (!"ok".equals(v.get("expect")))
                continue;
            for (int cut : new int[] { 1, 9 }) {
                FuzzInput.Writer w = new FuzzInput.Writer().between(1, 40, cut);
                for (String frame : v.getAll("frame")) {
                    int colon = frame.indexOf(':');
                    byte[] payload = java.util.HexFormat.of().parseHex(frame.substring(colon + 1));
                    w.u16(Integer.parseInt(frame.substring(0, colon))).u16(0).between(0, 300, payload.length).bytes(payload);
                }
                seeds.put("vector-" + v.name() + "-cut-" + cut, w.toByteArray());
            }
        }
        return seeds;
    }

    @Test
    void seedInputsAreCurrent() {
        FuzzSeeds.check(BundleFuzzTest.class, "validateAgreesWithTheProtocolAndNeverThrows", validateSeeds());
        FuzzSeeds.check(BundleFuzzTest.class, "wellFormedBundlesAreAcceptedWholeAndCutOnesDropped", wellFormedSeeds());
    }
}
