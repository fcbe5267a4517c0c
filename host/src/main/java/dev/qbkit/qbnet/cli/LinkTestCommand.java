// `qbnet link-test`: opens the first qbnet board on USB (no NAT, no session)
// and prints the raw bulk throughput each way, measured with the real UsbLink.
package dev.qbkit.qbnet.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import dev.qbkit.qbnet.board.HostDriver;
import dev.qbkit.qbnet.platform.Platform;
import dev.qbkit.qbnet.usb.LinkTest;
import dev.qbkit.qbnet.usb.UsbBoard;
import dev.qbkit.qbnet.usb.UsbContext;
import dev.qbkit.qbnet.usb.UsbException;
import dev.qbkit.qbnet.usb.UsbLink;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "link-test", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = { "Measure the bare USB link to the first qbnet board, in MB/s each way.",
                "Board to host with the board's LINK_TEST filler, host to board with full bundles of filler,",
                "through the same transfers 'qbnet run' uses. Needs the board to itself: stop 'qbnet run' first." })
public final class LinkTestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions configOptions;

    @Mixin
    LogOptions logOptions;

    @Mixin
    UsbOptions usbOptions;

    @Option(names = "--seconds", paramLabel = "N", defaultValue = "5",
            description = "How long to measure each direction, 1..60 (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--wait", paramLabel = "N", defaultValue = "5",
            description = "Seconds to wait for a board to appear, 0..600 (default: ${DEFAULT-VALUE}).")
    int waitSeconds;

    @Override
    public Integer call() throws InterruptedException {
        if (seconds < 1 || seconds > 60)
            throw new ParameterException(spec.commandLine(), "--seconds " + seconds + " must be within 1..60");
        if (waitSeconds < 0 || waitSeconds > 600)
            throw new ParameterException(spec.commandLine(), "--wait " + waitSeconds + " must be within 0..600");
        logOptions.apply();
        PrintWriter out = spec.commandLine().getOut();
        try (UsbContext context = UsbOptions.openContext(logOptions)) {
            UsbBoard board;
            try {
                board = LinkTest.openFirst(context, usbOptions.ids(), waitSeconds * 1000L);
            } catch (UsbException e) {
                if (e.isAccessDenied())
                    throw new CliError(Platform.accessDeniedHint(Platform.os(), "the board"));
                if (e.isBusy())
                    throw new CliError(Platform.busyHint("the board"));
                throw new CliError(e.getMessage());
            }
            out.printf("usb %s: %s; %s%n", board.location(), board.summary(), board.qbnetInterface());
            out.flush();
            LinkTest.Result r;
            try {
                r = LinkTest.run(board, HostDriver.MAX_RECEIVE_BUNDLE, seconds);
            } catch (UsbException e) {
                throw new CliError("link test failed: " + e.getMessage());
            }
            int read = (HostDriver.MAX_RECEIVE_BUNDLE + board.qbnetInterface().inMaxPacket() - 1)
                    / board.qbnetInterface().inMaxPacket() * board.qbnetInterface().inMaxPacket();
            boolean ok = true;
            if (r.boardToHost().nanos() > 0)
                out.printf("board -> host: %8.1f MB/s  (%.1f MB in %.2f s; %d reads of %d bytes posted)%n",
                        r.boardToHost().megabytesPerSecond(), r.boardToHost().bytes() / 1e6,
                        r.boardToHost().nanos() / 1e9, UsbLink.IN_TRANSFERS, read);
            else {
                ok = false;
                out.println("board -> host: no link-test data arrived (does the board's qbnetd support LINK_TEST?)");
            }
            if (r.hostToBoard().nanos() > 0)
                out.printf("host -> board: %8.1f MB/s  (%.1f MB in %.2f s; bundles of %d bytes, %d in flight)%n",
                        r.hostToBoard().megabytesPerSecond(), r.hostToBoard().bytes() / 1e6,
                        r.hostToBoard().nanos() / 1e9, r.outBundleSize(), UsbLink.OUT_TRANSFERS);
            else {
                ok = false;
                out.println("host -> board: nothing could be sent");
            }
            if (r.droppedBundles() > 0)
                out.printf("dropped %d malformed bundles from the board%n", r.droppedBundles());
            if (r.boardError() != null) {
                ok = false;
                out.println("problem: " + r.boardError());
            }
            out.flush();
            return ok ? 0 : 1;
        }
    }
}
