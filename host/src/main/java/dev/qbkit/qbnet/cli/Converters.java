// picocli converters for addresses, links, USB IDs and durations, with errors
// that say what a valid value looks like.
package dev.qbkit.qbnet.cli;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

import dev.qbkit.qbnet.link.ControlMessage.Ipv4Prefix;
import dev.qbkit.qbnet.usb.UsbId;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

final class Converters {
    private Converters() {
    }

    static Inet4Address ipv4(String s) {
        if (!s.matches("\\d{1,3}(\\.\\d{1,3}){3}"))
            throw new TypeConversionException("'" + s + "' is not an IPv4 address like 10.113.98.1");
        try {
            return Inet4Address.ofLiteral(s); // a literal only: never a name lookup
        } catch (IllegalArgumentException e) {
            // fall through
        }
        throw new TypeConversionException("'" + s + "' is not an IPv4 address like 10.113.98.1");
    }

    /** "30s", "500ms", "2m", "1h", or bare seconds ("30"); "0" for none. At most a day. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?").matcher(value.trim());
            if (!m.matches())
                throw new TypeConversionException("'" + value + "' is not a duration like 30s, 500ms, 2m or 0");
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2) == null ? "s" : m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
            if (d.compareTo(Duration.ofDays(1)) > 0)
                throw new TypeConversionException("'" + value + "' is longer than a day");
            return d;
        }
    }

    static final class Ipv4Converter implements ITypeConverter<Inet4Address> {
        @Override
        public Inet4Address convert(String value) {
            return ipv4(value);
        }
    }

    static final class PrefixConverter implements ITypeConverter<Ipv4Prefix> {
        @Override
        public Ipv4Prefix convert(String value) {
            String[] parts = value.split("/", -1);
            if (parts.length != 2 || !parts[1].matches("\\d{1,2}"))
                throw new TypeConversionException("'" + value + "' is not ADDRESS/PREFIX like 10.113.98.2/24");
            int prefix = Integer.parseInt(parts[1]);
            if (prefix < 1 || prefix > 30)
                throw new TypeConversionException("prefix length " + prefix + " must be 1..30");
            return new Ipv4Prefix(ipv4(parts[0]), prefix);
        }
    }

    static final class EndpointConverter implements ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            String host = value;
            int port = 53;
            if (value.startsWith("[")) {
                int close = value.indexOf(']');
                if (close < 0)
                    throw new TypeConversionException("'" + value + "': missing ']' in [IPv6]:PORT");
                host = value.substring(1, close);
                if (close + 1 < value.length()) {
                    if (value.charAt(close + 1) != ':')
                        throw new TypeConversionException("'" + value + "' is not [IPv6]:PORT");
                    port = port(value.substring(close + 2));
                }
            } else if (value.indexOf(':') >= 0 && value.indexOf(':') == value.lastIndexOf(':')) {
                host = value.substring(0, value.indexOf(':'));
                port = port(value.substring(value.indexOf(':') + 1));
            }
            if (!host.matches("[0-9a-fA-F:.]+"))
                throw new TypeConversionException("'" + value + "' is not an IP address (names are not allowed here)");
            try {
                return new InetSocketAddress(InetAddress.ofLiteral(host), port);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not an IP address");
            }
        }
    }

    /** The metrics endpoint: PORT (on 127.0.0.1), IP:PORT or [IPv6]:PORT; port 0 picks a free one. */
    static final class MetricsAddressConverter implements ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            String host = "127.0.0.1";
            String port = value;
            if (value.startsWith("[")) {
                int close = value.indexOf("]:");
                if (close < 0)
                    throw new TypeConversionException("'" + value + "' is not [IPv6]:PORT");
                host = value.substring(1, close);
                port = value.substring(close + 2);
            } else if (value.indexOf(':') >= 0) {
                host = value.substring(0, value.lastIndexOf(':'));
                port = value.substring(value.lastIndexOf(':') + 1);
            }
            if (!host.matches("[0-9a-fA-F:.]+"))
                throw new TypeConversionException("'" + value + "' is not IP:PORT (names are not allowed here), e.g. 127.0.0.1:9464");
            if (!port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535)
                throw new TypeConversionException("'" + value + "': '" + port + "' is not a port number 0..65535");
            try {
                return new InetSocketAddress(InetAddress.ofLiteral(host), Integer.parseInt(port));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not IP:PORT, e.g. 127.0.0.1:9464");
            }
        }
    }

    static int port(String s) {
        if (!s.matches("\\d{1,5}") || Integer.parseInt(s) < 1 || Integer.parseInt(s) > 65535)
            throw new TypeConversionException("'" + s + "' is not a port number 1..65535");
        return Integer.parseInt(s);
    }

    /** A transport address: usb (path null), or unix:PATH. */
    record LinkAddress(String scheme, Path path) {
        boolean isUsb() {
            return scheme.equals("usb");
        }
    }

    static final class LinkConverter implements ITypeConverter<LinkAddress> {
        @Override
        public LinkAddress convert(String value) {
            if (value.equals("usb"))
                return new LinkAddress("usb", null);
            if (value.startsWith("unix:") && value.length() > 5)
                return new LinkAddress("unix", Path.of(value.substring(5)));
            throw new TypeConversionException("'" + value + "' is not a link: use usb or unix:PATH");
        }
    }

    static final class UsbIdConverter implements ITypeConverter<UsbId> {
        @Override
        public UsbId convert(String value) {
            try {
                return UsbId.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
