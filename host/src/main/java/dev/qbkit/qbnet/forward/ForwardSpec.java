// One port forward from the host into a board, as written on the command line:
// [SERIAL/]tcp|udp:[BIND:]HOSTPORT:BOARDPORT, e.g. tcp:2222:22 or
// QB-0001/udp:[::1]:5353:53. The bind address defaults to loopback.
package dev.qbkit.qbnet.forward;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;

public record ForwardSpec(String serial, boolean udp, InetAddress bind, int hostPort, int boardPort) {
    public static ForwardSpec parse(String text) {
        String rest = text;
        String serial = null;
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            serial = rest.substring(0, slash);
            rest = rest.substring(slash + 1);
            if (serial.isEmpty() || !serial.matches("[\\x21-\\x7e]{1,64}"))
                throw new IllegalArgumentException("'" + text + "': the board serial before '/' must be 1..64 printable characters");
        }
        int colon = rest.indexOf(':');
        String proto = colon < 0 ? "" : rest.substring(0, colon).toLowerCase(Locale.ROOT);
        if (!proto.equals("tcp") && !proto.equals("udp"))
            throw new IllegalArgumentException("'" + text + "' is not [SERIAL/]tcp|udp:[BIND:]HOSTPORT:BOARDPORT, e.g. tcp:2222:22");
        rest = rest.substring(colon + 1);
        String bind = "127.0.0.1";
        if (rest.startsWith("[")) {
            int close = rest.indexOf("]:");
            if (close < 0)
                throw new IllegalArgumentException("'" + text + "': write an IPv6 bind address as [ADDR]:HOSTPORT:BOARDPORT");
            bind = rest.substring(1, close);
            rest = rest.substring(close + 2);
        } else if (rest.chars().filter(c -> c == ':').count() == 2) {
            bind = rest.substring(0, rest.indexOf(':'));
            rest = rest.substring(rest.indexOf(':') + 1);
        }
        String[] ports = rest.split(":", -1);
        if (ports.length != 2)
            throw new IllegalArgumentException("'" + text + "' is not [SERIAL/]tcp|udp:[BIND:]HOSTPORT:BOARDPORT, e.g. tcp:2222:22");
        if (!bind.matches("[0-9a-fA-F:.]+"))
            throw new IllegalArgumentException("'" + text + "': the bind address must be an IP address");
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(bind); // a literal only: never a name lookup
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "': '" + bind + "' is not an IP address");
        }
        return new ForwardSpec(serial, proto.equals("udp"), address, port(text, ports[0]), port(text, ports[1]));
    }

    private static int port(String text, String s) {
        if (!s.matches("\\d{1,5}") || Integer.parseInt(s) < 1 || Integer.parseInt(s) > 65535)
            throw new IllegalArgumentException("'" + text + "': '" + s + "' is not a port number 1..65535");
        return Integer.parseInt(s);
    }

    public InetSocketAddress hostEndpoint() {
        return new InetSocketAddress(bind, hostPort);
    }

    /** Whether this forward is for the board with {@code boardSerial} (unkeyed forwards fit any board). */
    public boolean isFor(String boardSerial) {
        return serial == null || serial.equals(boardSerial);
    }

    @Override
    public String toString() {
        String host = bind.getAddress().length == 16 ? "[" + bind.getHostAddress() + "]" : bind.getHostAddress();
        return (serial == null ? "" : serial + "/") + (udp ? "udp" : "tcp") + ":" + host + ":" + hostPort + ":" + boardPort;
    }
}
