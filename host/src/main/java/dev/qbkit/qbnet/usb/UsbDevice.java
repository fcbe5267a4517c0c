// A USB device seen in one scan, before it is opened: its IDs, where it is
// plugged (bus-port path), its speed and its qbnet interface if it has one.
// Holds a libusb reference to the device until closed.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
public final class UsbDevice implements AutoCloseable {
    private final MemorySegment device;
    private final UsbId id;
    private final int bcdDevice;
    private final int serialIndex;
    private final int bus;
    private final int address;
    private final String location;
    private final int speed;
    private final QbnetInterface qbnet;
    private final String noInterfaceReason;
    private boolean closed;

    private UsbDevice(MemorySegment device, UsbId id, int bcdDevice, int serialIndex, int bus, int address,
            String location, int speed, QbnetInterface qbnet, String noInterfaceReason) {
        this.device = device;
        this.id = id;
        this.bcdDevice = bcdDevice;
        this.serialIndex = serialIndex;
        this.bus = bus;
        this.address = address;
        this.location = location;
        this.speed = speed;
        this.qbnet = qbnet;
        this.noInterfaceReason = noInterfaceReason;
    }

    /**
     * The devices whose VID:PID is in {@code ids}, each holding a reference
     * the caller releases with {@link #close}.
     */
    public static List<UsbDevice> scan(UsbContext context, Set<UsbId> ids) throws UsbException {
        List<UsbDevice> found = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment listOut = a.allocate(ADDRESS);
            long count = LibUsb.getDeviceList(context.pointer(), listOut);
            if (count < 0)
                throw new UsbException("cannot list USB devices", (int) count);
            MemorySegment list = listOut.get(ADDRESS, 0).reinterpret(count * ADDRESS.byteSize());
            try {
                MemorySegment descriptor = a.allocate(LibUsbStructs.DEVICE_DESCRIPTOR);
                for (long i = 0; i < count; i++) {
                    MemorySegment dev = list.getAtIndex(ADDRESS, i);
                    if (LibUsb.getDeviceDescriptor(dev, descriptor) != LibUsb.SUCCESS)
                        continue;
                    UsbId id = new UsbId(Short.toUnsignedInt(descriptor.get(JAVA_SHORT, LibUsbStructs.DEVICE_ID_VENDOR)),
                            Short.toUnsignedInt(descriptor.get(JAVA_SHORT, LibUsbStructs.DEVICE_ID_PRODUCT)));
                    if (!ids.contains(id))
                        continue;
                    found.add(describe(LibUsb.refDevice(dev), id, descriptor, a));
                }
            } finally {
                LibUsb.freeDeviceList(list, true);
            }
        }
        return found;
    }

    private static UsbDevice describe(MemorySegment dev, UsbId id, MemorySegment descriptor, Arena a) {
        int bus = LibUsb.busNumber(dev);
        int address = LibUsb.deviceAddress(dev);
        MemorySegment ports = a.allocate(8);
        int n = LibUsb.portNumbers(dev, ports, 8);
        StringBuilder location = new StringBuilder().append(bus);
        if (n > 0) {
            for (int p = 0; p < n; p++)
                location.append(p == 0 ? '-' : '.').append(Byte.toUnsignedInt(ports.get(JAVA_BYTE, p)));
        } else {
            location.append(":").append(address);
        }
        QbnetInterface qbnet = null;
        String reason = null;
        MemorySegment configOut = a.allocate(ADDRESS);
        int rc = LibUsb.getActiveConfigDescriptor(dev, configOut);
        if (rc == LibUsb.SUCCESS) {
            MemorySegment config = configOut.get(ADDRESS, 0);
            try {
                qbnet = QbnetInterface.find(QbnetInterface.walk(config));
                if (qbnet == null)
                    reason = "no interface of class ff/71/01 with a bulk IN and a bulk OUT endpoint";
            } finally {
                LibUsb.freeConfigDescriptor(config);
            }
        } else {
            reason = "cannot read its configuration: " + LibUsb.describe(rc);
        }
        return new UsbDevice(dev, id, Short.toUnsignedInt(descriptor.get(JAVA_SHORT, LibUsbStructs.DEVICE_BCD_DEVICE)),
                Byte.toUnsignedInt(descriptor.get(JAVA_BYTE, LibUsbStructs.DEVICE_I_SERIAL)), bus, address,
                location.toString(), LibUsb.deviceSpeed(dev), qbnet, reason);
    }

    MemorySegment pointer() {
        return device;
    }

    public UsbId id() {
        return id;
    }

    public int bcdDevice() {
        return bcdDevice;
    }

    int serialIndex() {
        return serialIndex;
    }

    /** Identifies this device while it stays plugged in (a replug gets a new address). */
    public String key() {
        return bus + "." + address;
    }

    /** The bus-port path, "1-2.3" as Linux names it in sysfs. */
    public String location() {
        return location;
    }

    public String speedName() {
        return speed >= 0 && speed < LibUsb.SPEED_NAMES.length ? LibUsb.SPEED_NAMES[speed] : "speed " + speed;
    }

    /** The qbnet interface, or null (then {@link #noInterfaceReason} says why). */
    public QbnetInterface qbnet() {
        return qbnet;
    }

    public String noInterfaceReason() {
        return noInterfaceReason;
    }

    /** "1209:0001 at usb 1-2", for messages. */
    public String describe() {
        return id + " at usb " + location;
    }

    @Override
    public void close() {
        if (closed)
            return;
        closed = true;
        LibUsb.unrefDevice(device);
    }
}
