// `qbnet list`: the qbnet boards plugged in over USB, one line each: where,
// IDs, speed, serial and what GET_INFO says (software, protocol versions).
package dev.qbkit.qbnet.cli;

import java.io.PrintWriter;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.platform.Platform;
import dev.qbkit.qbnet.usb.UsbBoard;
import dev.qbkit.qbnet.usb.UsbContext;
import dev.qbkit.qbnet.usb.UsbDevice;
import dev.qbkit.qbnet.usb.UsbException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = { "List the qbnet boards plugged in over USB.",
                "One line each: bus-port path, VID:PID, speed, serial, and the board's software and protocol versions (GET_INFO)." })
public final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions configOptions;

    @Mixin
    LogOptions logOptions;

    @Mixin
    UsbOptions usbOptions;

    @Override
    public Integer call() {
        logOptions.apply();
        PrintWriter out = spec.commandLine().getOut();
        try (UsbContext context = UsbOptions.openContext(logOptions)) {
            List<UsbDevice> devices = UsbDevice.scan(context, usbOptions.ids());
            try {
                devices.sort(Comparator.comparing(UsbDevice::location));
                if (devices.isEmpty())
                    out.println("no qbnet boards on USB (looked for "
                            + usbOptions.ids().stream().map(Object::toString).sorted().toList() + ")");
                for (UsbDevice d : devices)
                    out.println(line(context, d));
            } finally {
                devices.forEach(UsbDevice::close);
            }
        } catch (UsbException e) {
            throw new CliError(e.getMessage());
        }
        out.flush();
        return 0;
    }

    private static String line(UsbContext context, UsbDevice d) {
        String head = String.format("usb %-8s %s  %s", d.location(), d.id(), d.speedName());
        if (d.qbnet() == null)
            return head + "  not a qbnet board: " + d.noInterfaceReason();
        try (UsbBoard board = UsbBoard.open(context, d, false)) {
            StringBuilder s = new StringBuilder(head).append("  serial ")
                    .append(board.serial() == null ? "(none)" : board.serial());
            ControlMessage.Hello info = board.info();
            if (info != null)
                s.append("  ").append(info.software() == null ? "unknown software" : info.software())
                        .append("  protocol ").append(info.versionMin()).append('-').append(info.versionMax())
                        .append("  max bundle ").append(info.maxBundle());
            else
                s.append("  (no GET_INFO: ").append(board.infoProblem()).append(')');
            return s.toString();
        } catch (UsbException e) {
            if (e.isAccessDenied())
                return head + "  " + Platform.accessDeniedHint(Platform.os(), d.describe());
            return head + "  " + e.getMessage();
        }
    }
}
