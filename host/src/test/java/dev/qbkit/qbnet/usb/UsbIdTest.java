// VID:PID parsing for --usb-id: accepted forms, and errors that say what is wrong.
package dev.qbkit.qbnet.usb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.qbkit.qbnet.robust.FuzzInput;

class UsbIdTest {
    @Test
    void parsesHexPairs() {
        assertEquals(new UsbId(0x1209, 0x0001), UsbId.parse("1209:0001"));
        assertEquals(new UsbId(0x1209, 0x0001), UsbId.parse("1209:1"));
        assertEquals(new UsbId(0xABCD, 0xEF01), UsbId.parse("abcd:EF01"));
        assertEquals(new UsbId(0x1d6b, 0x0104), UsbId.parse("0x1d6b:0x0104"));
        assertEquals(new UsbId(0x1209, 0x0001), UsbId.parse(" 1209:0001 "));
        assertEquals(UsbId.DEFAULT, UsbId.parse("1209:0001"));
        assertEquals("1209:0001", UsbId.DEFAULT.toString());
    }

    @Test
    void rejectsWithAReason() {
        assertMessage("1209", "is not VID:PID");
        assertMessage("1209:0001:2", "is not VID:PID");
        assertMessage("12345:0001", "vendor ID '12345' is not 1 to 4 hexadecimal digits");
        assertMessage("1209:", "product ID '' is not 1 to 4 hexadecimal digits");
        assertMessage("12g9:0001", "vendor ID '12g9'");
        assertMessage("-1:0001", "vendor ID '-1'");
        assertMessage("0000:0001", "vendor ID 0000 is not a valid USB vendor");
    }

    private static void assertMessage(String text, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UsbId.parse(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** Input: vendor (1..0xFFFF), product. */
    @FuzzTest
    void printsWhatItParses(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        UsbId id = new UsbId(in.between(1, 0xFFFF), in.u16());
        assertEquals(id, UsbId.parse(id.toString()));
    }

    /** Input: the text, as UTF-8 (malformed sequences become U+FFFD, which must be refused like any junk). */
    @FuzzTest
    void anyTextParsesOrSaysWhy(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        try {
            UsbId id = UsbId.parse(text);
            assertTrue(id.vendor() > 0);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
        }
    }
}
