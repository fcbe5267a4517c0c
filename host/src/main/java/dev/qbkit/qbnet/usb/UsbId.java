// A USB vendor:product ID pair as given on the command line ("1209:0001",
// hexadecimal), with parsing that says what a valid one looks like.
package dev.qbkit.qbnet.usb;

import java.util.Locale;

public record UsbId(int vendor, int product) {
    /** The pid.codes test ID: a placeholder until qbkit has its own (doc/PROTOCOL.md section 6). */
    public static final UsbId DEFAULT = new UsbId(0x1209, 0x0001);

    public UsbId {
        if (vendor < 0 || vendor > 0xFFFF || product < 0 || product > 0xFFFF)
            throw new IllegalArgumentException("USB IDs are 16-bit");
    }

    /**
     * Parses "VID:PID": two hexadecimal numbers of 1 to 4 digits (an optional
     * 0x prefix each), e.g. 1209:0001.
     *
     * @throws IllegalArgumentException with a message for the user
     */
    public static UsbId parse(String text) {
        String s = text.strip();
        int colon = s.indexOf(':');
        if (colon < 0 || colon != s.lastIndexOf(':'))
            throw new IllegalArgumentException("'" + text + "' is not VID:PID: give two hexadecimal IDs like 1209:0001");
        int vendor = hex16(s.substring(0, colon), "vendor", text);
        int product = hex16(s.substring(colon + 1), "product", text);
        if (vendor == 0)
            throw new IllegalArgumentException("'" + text + "': vendor ID 0000 is not a valid USB vendor");
        return new UsbId(vendor, product);
    }

    private static int hex16(String part, String what, String text) {
        String digits = part.startsWith("0x") || part.startsWith("0X") ? part.substring(2) : part;
        if (!digits.matches("[0-9a-fA-F]{1,4}"))
            throw new IllegalArgumentException("'" + text + "': the " + what + " ID '" + part
                    + "' is not 1 to 4 hexadecimal digits (like 1209:0001)");
        return Integer.parseInt(digits, 16);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%04x:%04x", vendor, product);
    }
}
