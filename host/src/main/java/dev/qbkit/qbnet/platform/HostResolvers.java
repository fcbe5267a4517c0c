// Where this OS keeps the host's DNS servers and how qbnet reads them again
// and again: /etc/resolv.conf on Linux, macOS and other Unixes (parsed by
// dnsjava's own parser), the network adapters' servers on Windows (dnsjava's
// providers). DESIGN.md "A host that follows its network" says why polling.
package dev.qbkit.qbnet.platform;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.xbill.DNS.ResolverConfig;
import org.xbill.DNS.config.InitializationException;
import org.xbill.DNS.config.ResolvConfResolverConfigProvider;
import org.xbill.DNS.config.ResolverConfigProvider;

public final class HostResolvers {
    /** resolv.conf is a few hundred bytes; more than this is not a resolver file. */
    static final int MAX_RESOLV_CONF = 64 * 1024;
    static final int MAX_SERVERS = 3;

    /**
     * One way of reading the host's servers. {@link #read()} is cheap and
     * returns a value that is equal to the last one when nothing changed;
     * {@link #servers(Object)} turns a reading into the server list.
     */
    public interface Source {
        Object read() throws IOException;

        List<InetSocketAddress> servers(Object reading);

        /** What is read, for log lines ("/etc/resolv.conf"). */
        String describe();
    }

    private HostResolvers() {
    }

    public static Source forOs(Platform.Os os) {
        return os == Platform.Os.WINDOWS ? new ProviderChain() : new ResolvConf(Path.of("/etc/resolv.conf"));
    }

    /**
     * How often the configuration is read again. A Unix reading is one read
     * of a small file; on Windows the JDK keeps the adapters' servers cached
     * until its own address-change notification, so a reading costs little too.
     */
    public static Duration pollInterval(Platform.Os os) {
        return os == Platform.Os.WINDOWS ? Duration.ofSeconds(5) : Duration.ofSeconds(2);
    }

    /**
     * A resolv.conf file, read whole on every poll: the content is the
     * reading, so a symlink whose target is replaced (systemd-resolved,
     * NetworkManager, macOS's configd), a file rewritten in place, a bind
     * mount or a rename over it all show up the same way. A missing file is
     * a file with no servers.
     */
    public static final class ResolvConf implements Source {
        private final Path path;

        public ResolvConf(Path path) {
            this.path = path;
        }

        @Override
        public Object read() throws IOException {
            try (InputStream in = Files.newInputStream(path)) {
                return new String(in.readNBytes(MAX_RESOLV_CONF), StandardCharsets.ISO_8859_1);
            } catch (NoSuchFileException e) {
                return "";
            }
        }

        @Override
        public List<InetSocketAddress> servers(Object reading) {
            return new Parser().parse((String) reading);
        }

        @Override
        public String describe() {
            return path.toString();
        }
    }

    /** dnsjava's resolv.conf parser (the one ResolverConfig uses), on text we read ourselves. */
    private static final class Parser extends ResolvConfResolverConfigProvider {
        List<InetSocketAddress> parse(String text) {
            reset();
            try {
                parseResolvConf(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)));
            } catch (IOException | RuntimeException e) {
                // A malformed line ("nameserver" without an address) ends the parse: keep what came before.
                log.debug("resolv.conf: {}", e.toString());
            }
            // The C library uses the first three (MAXNS); so do we, to ask what the host itself asks.
            return servers().stream().filter(a -> !a.isUnresolved()).limit(MAX_SERVERS).toList();
        }
    }

    /**
     * dnsjava's resolver-configuration providers in its own order (on
     * Windows: GetAdaptersAddresses through JNA when JNA is there, else the
     * JDK's JNDI DNS provider, which reads the adapters and re-reads them on
     * the OS's address-change notification), without ResolverConfig's
     * fallback to 127.0.0.1: no servers means none.
     */
    static final class ProviderChain implements Source {
        @Override
        public Object read() {
            synchronized (ResolverConfig.class) {
                for (ResolverConfigProvider provider : ResolverConfig.getConfigProviders()) {
                    if (!provider.isEnabled())
                        continue;
                    try {
                        provider.initialize();
                    } catch (InitializationException | RuntimeException e) {
                        continue;
                    }
                    if (!provider.servers().isEmpty())
                        return List.copyOf(provider.servers());
                }
            }
            return List.of();
        }

        @Override
        @SuppressWarnings("unchecked")
        public List<InetSocketAddress> servers(Object reading) {
            return (List<InetSocketAddress>) reading;
        }

        @Override
        public String describe() {
            return "the network adapters' DNS servers";
        }
    }
}
