// The USB flags shared by `qbnet list` and `qbnet link-test`: which VID:PIDs
// are qbnet boards, and opening libusb with the log level of the command.
package dev.qbkit.qbnet.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.qbkit.qbnet.usb.UsbContext;
import dev.qbkit.qbnet.usb.UsbException;
import dev.qbkit.qbnet.usb.UsbId;
import picocli.CommandLine.Option;

public final class UsbOptions {
    @Option(names = "--usb-id", paramLabel = "VID:PID", converter = Converters.UsbIdConverter.class, split = ",",
            description = "USB vendor:product ID of the boards, hexadecimal (default: 1209:0001). Repeatable, or comma-separated.")
    List<UsbId> usbIds = new ArrayList<>();

    Set<UsbId> ids() {
        return usbIds.isEmpty() ? Set.of(UsbId.DEFAULT) : Set.copyOf(usbIds);
    }

    static UsbContext openContext(LogOptions logOptions) {
        try {
            return UsbContext.open(logOptions.libusbLogLevel());
        } catch (UsbException e) {
            throw new CliError(e.getMessage());
        }
    }
}
