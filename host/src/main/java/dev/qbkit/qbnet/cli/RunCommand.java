// `qbnet run`: starts the host driver, serves boards until interrupted.
package dev.qbkit.qbnet.cli;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.link.ControlMessage.Ipv4Prefix;
import dev.qbkit.qbnet.forward.ForwardSpec;
import dev.qbkit.qbnet.nat.Cidr;
import dev.qbkit.qbnet.nat.NatConfig;
import dev.qbkit.qbnet.platform.Platform;
import dev.qbkit.qbnet.platform.SystemdNotify;
import dev.qbkit.qbnet.usb.UsbException;
import dev.qbkit.qbnet.usb.UsbId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = "Serve attached boards (over USB by default): each gets its own NAT to this host's network.")
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LogOptions logOptions;

    @Option(names = "--link", defaultValue = "usb", paramLabel = "usb|unix:PATH", converter = Converters.LinkConverter.class,
            description = "Where boards attach: usb (default) serves every qbnet board plugged in over USB; "
                    + "unix:PATH listens on a Unix socket for qbnetd --link unix:PATH.")
    Converters.LinkAddress link;

    @Option(names = "--usb-id", paramLabel = "VID:PID", converter = Converters.UsbIdConverter.class, split = ",",
            description = "USB vendor:product ID of the boards, hexadecimal (default: 1209:0001). Repeatable, or comma-separated.")
    List<UsbId> usbIds = new ArrayList<>();

    @Option(names = "--address", paramLabel = "ADDR/PREFIX", defaultValue = "10.113.98.2/24",
            converter = Converters.PrefixConverter.class,
            description = "IPv4 address and prefix given to the board (default: ${DEFAULT-VALUE}).")
    Ipv4Prefix address;

    @Option(names = "--gateway", paramLabel = "ADDR", defaultValue = "10.113.98.1", converter = Converters.Ipv4Converter.class,
            description = "The board's gateway: this host (default: ${DEFAULT-VALUE}). With --allow-host-loopback it reaches the host's 127.0.0.1.")
    Inet4Address gateway;

    @Option(names = "--dns", paramLabel = "ADDR", defaultValue = "10.113.98.3", converter = Converters.Ipv4Converter.class,
            description = "Virtual DNS server address the board uses, answered from the host's resolvers (default: ${DEFAULT-VALUE}).")
    Inet4Address dns;

    @Option(names = "--dns-upstream", paramLabel = "IP[:PORT]", converter = Converters.EndpointConverter.class, split = ",",
            description = "DNS server to forward the board's queries to, instead of the host's resolver configuration "
                    + "(which qbnet otherwise follows as it changes). Repeatable, or comma-separated.")
    List<InetSocketAddress> dnsUpstreams = new ArrayList<>();

    @Option(names = "--mtu", paramLabel = "BYTES", defaultValue = "" + NatConfig.DEFAULT_MTU,
            description = "Link MTU offered to the board, 576..65535 (default: ${DEFAULT-VALUE}).")
    int mtu;

    @Option(names = "--allow-host-loopback",
            description = "Let the board reach this host's loopback (127.0.0.1) through the gateway address.")
    boolean allowHostLoopback;

    @Option(names = "--no-offload",
            description = "Do not let boards hand TCP segmentation and checksums to their kernel (PROTOCOL.md section 7).")
    boolean noOffload;

    @Option(names = "--no-ipv6", description = "Give the board no IPv6 address (by default it gets fd71:6200::2/64 via ::1).")
    boolean noIpv6;

    @Option(names = "--forward", paramLabel = "SPEC", split = ",",
            description = "Forward a host port into the board: [SERIAL/]tcp|udp:[BIND:]HOSTPORT:BOARDPORT, "
                    + "e.g. tcp:2222:22 for 'ssh -p 2222 localhost'. BIND defaults to 127.0.0.1. Repeatable, or comma-separated; "
                    + "'qbnet forward' changes them at run time.")
    List<String> forwardSpecs = new ArrayList<>();

    @Option(names = "--allow", paramLabel = "CIDR", split = ",",
            description = "Let the board reach this network even where a --deny or the default (link-local) refuses it. Repeatable, or comma-separated.")
    List<String> allow = new ArrayList<>();

    @Option(names = "--deny", paramLabel = "CIDR", split = ",",
            description = "Keep the board from this network; the longest matching --allow/--deny prefix wins. Repeatable, or comma-separated.")
    List<String> deny = new ArrayList<>();

    @Option(names = "--hold", paramLabel = "DURATION", defaultValue = "30s", converter = Converters.DurationConverter.class,
            description = "Keep a board's connections this long after its link goes (an unplug, a board daemon "
                    + "restart): if the same board (same serial) comes back in time, they carry on. 0 ends them "
                    + "with the link (default: ${DEFAULT-VALUE}).")
    Duration hold;

    @Mixin
    ControlOptions control;

    @Option(names = "--metrics", paramLabel = "[IP:]PORT", converter = Converters.MetricsAddressConverter.class,
            description = "Serve Prometheus metrics at http://IP:PORT/metrics, e.g. 127.0.0.1:9464 (IP defaults to "
                    + "127.0.0.1; off unless given). 'qbnet status --prometheus' prints the same.")
    InetSocketAddress metrics;

    @Option(names = "--metrics-allow-remote",
            description = "Let --metrics listen on an address other than loopback: anyone who reaches it sees board "
                    + "serials and traffic.")
    boolean metricsAllowRemote;

    @Mixin
    ConfigOptions configOptions;

    @Option(names = "--test-drop-frames", paramLabel = "RATE", hidden = true, defaultValue = "0",
            description = "TEST ONLY: drop this fraction (0..0.5) of IP frames each way on the link.")
    double testDropFrames;

    @Option(names = "--max-tcp-flows", paramLabel = "N", defaultValue = "16384",
            description = "TCP connections per board (default: ${DEFAULT-VALUE}).")
    int maxTcpFlows;

    @Option(names = "--max-udp-flows", paramLabel = "N", defaultValue = "4096",
            description = "UDP mappings per board (default: ${DEFAULT-VALUE}).")
    int maxUdpFlows;

    @Option(names = "--max-buffer", paramLabel = "MiB", defaultValue = "256",
            description = "Memory for buffered flow data per board (default: ${DEFAULT-VALUE} MiB).")
    int maxBufferMiB;

    @Override
    public Integer call() throws Exception {
        logOptions.apply();
        boolean tuned = Platform.tuneNativeMemory();
        LoggerFactory.getLogger(RunCommand.class).debug("malloc tuned for board attach/detach cycles: {}", tuned);
        NatConfig config = natConfig();
        List<ForwardSpec> forwards = new ArrayList<>();
        for (String f : forwardSpecs) {
            try {
                forwards.add(ForwardSpec.parse(f));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--forward " + e.getMessage());
            }
        }
        if (metrics != null && !metrics.getAddress().isLoopbackAddress() && !metricsAllowRemote)
            throw new ParameterException(spec.commandLine(), "--metrics " + metrics.getAddress().getHostAddress()
                    + " is not a loopback address: metrics show board serials and traffic to anyone who can reach it; "
                    + "use 127.0.0.1:PORT, or add --metrics-allow-remote");
        if (metricsAllowRemote && metrics == null)
            throw new ParameterException(spec.commandLine(), "--metrics-allow-remote needs --metrics [IP:]PORT");
        if (testDropFrames < 0 || testDropFrames > 0.5)
            throw new ParameterException(spec.commandLine(), "--test-drop-frames must be within 0..0.5");
        if (!ConfigOptions.loaded().files().isEmpty())
            LoggerFactory.getLogger(RunCommand.class).info("settings from {} ({} keys; flags win)",
                    ConfigOptions.loaded().files(), ConfigOptions.loaded().size());
        var driver = new dev.qbkit.qbnet.board.HostDriver(config, dnsUpstreams);
        driver.setFaultInjection(new dev.qbkit.qbnet.board.FaultInjection(testDropFrames, 0x5142));
        driver.setHold(hold);
        try {
            driver.addForwards(forwards);
            driver.startControl(control.path());
            if (metrics != null)
                driver.startMetrics(metrics);
        } catch (java.io.IOException e) {
            driver.close();
            throw new CliError(e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            SystemdNotify.stopping();
            driver.close();
            stopped.countDown();
        }, "shutdown"));
        try {
            if (link.isUsb())
                driver.listenUsb(usbIds.isEmpty() ? List.of(UsbId.DEFAULT) : List.copyOf(usbIds),
                        logOptions.libusbLogLevel());
            else
                driver.listenUnix(link.path());
        } catch (java.io.IOException e) {
            throw new CliError("cannot listen on unix:" + link.path() + ": " + e.getMessage());
        } catch (UsbException e) {
            throw new CliError(e.getMessage());
        }
        SystemdNotify.ready("serving boards on " + (link.isUsb() ? "usb" : "unix:" + link.path()));
        stopped.await();
        return 0;
    }

    private NatConfig natConfig() {
        if (!link.isUsb() && !usbIds.isEmpty())
            throw new ParameterException(spec.commandLine(), "--usb-id applies to --link usb only");
        if (mtu < 576 || mtu > 65535)
            throw new ParameterException(spec.commandLine(), "--mtu " + mtu + " must be within 576..65535");
        if (address.address().equals(gateway) || address.address().equals(dns) || gateway.equals(dns))
            throw new ParameterException(spec.commandLine(), "--address, --gateway and --dns must be three different addresses");
        if (maxTcpFlows < 1)
            throw new ParameterException(spec.commandLine(), "--max-tcp-flows " + maxTcpFlows + " must be at least 1");
        if (maxUdpFlows < 1)
            throw new ParameterException(spec.commandLine(), "--max-udp-flows " + maxUdpFlows + " must be at least 1");
        if (maxBufferMiB < 1 || maxBufferMiB > 1 << 20)
            throw new ParameterException(spec.commandLine(), "--max-buffer " + maxBufferMiB + " must be 1..1048576 MiB");
        List<Cidr> allowRules = rules("--allow", allow);
        List<Cidr> denyRules = rules("--deny", deny);
        NatConfig.Builder b = NatConfig.builder();
        if (noIpv6)
            b.ipv6(null, 0, null, null);
        return b.rules(allowRules, denyRules)
                .offload(!noOffload)
                .ipv4(address.address(), address.prefixLength(), gateway, dns)
                .mtu(mtu)
                .allowHostLoopback(allowHostLoopback)
                .dnsUpstreams(dnsUpstreams)
                .limits(maxTcpFlows, maxUdpFlows, (long) maxBufferMiB << 20)
                .build();
    }

    private List<Cidr> rules(String flag, List<String> values) {
        try {
            return values.stream().map(Cidr::parse).toList();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), flag + " " + e.getMessage());
        }
    }

    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }
}
