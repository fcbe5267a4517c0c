// One opened qbnet board: the libusb handle with the qbnet interface claimed,
// what the board says about itself (serial, GET_INFO's HELLO), and the vendor
// requests of doc/PROTOCOL.md section 6. Blocking: never call it on a board loop.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;

public final class UsbBoard implements AutoCloseable {
    static final int GET_INFO = 0x01;
    static final int RESET_LINK = 0x02;
    static final int LINK_TEST = 0x03;
    /** Vendor requests answer at once; a board that does not within this is broken or gone. */
    private static final int CONTROL_TIMEOUT_MS = 1000;

    private final UsbContext context;
    private final MemorySegment handle;
    private final QbnetInterface iface;
    private final UsbId id;
    private final String location;
    private final String speed;
    private final String serial;
    private final ControlMessage.Hello info;
    private final String infoProblem;
    private boolean closed;

    private UsbBoard(UsbContext context, MemorySegment handle, UsbDevice device, String serial,
            ControlMessage.Hello info, String infoProblem) {
        this.context = context;
        this.handle = handle;
        this.iface = device.qbnet();
        this.id = device.id();
        this.location = device.location();
        this.speed = device.speedName();
        this.serial = serial;
        this.info = info;
        this.infoProblem = infoProblem;
    }

    /**
     * Opens {@code device} (which must have a qbnet interface), claims the
     * interface (detaching a kernel driver where the OS allows) and asks the
     * board for GET_INFO. The device keeps its own reference.
     *
     * @param claim false to only open (for listing: another qbnet may hold the interface)
     */
    public static UsbBoard open(UsbContext context, UsbDevice device, boolean claim) throws UsbException {
        QbnetInterface iface = device.qbnet();
        if (iface == null)
            throw new UsbException(device.describe() + " is not a qbnet board: " + device.noInterfaceReason());
        MemorySegment handle;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = LibUsb.open(device.pointer(), out);
            if (rc != LibUsb.SUCCESS)
                throw new UsbException("cannot open " + device.describe(), rc);
            handle = out.get(ADDRESS, 0);
        }
        try {
            if (claim) {
                LibUsb.setAutoDetachKernelDriver(handle, true); // NOT_SUPPORTED off Linux: nothing to detach there
                int rc = LibUsb.claimInterface(handle, iface.number());
                if (rc != LibUsb.SUCCESS)
                    throw new UsbException("cannot claim " + iface + " of " + device.describe(), rc);
                if (iface.altSetting() != 0) {
                    rc = LibUsb.setInterfaceAltSetting(handle, iface.number(), iface.altSetting());
                    if (rc != LibUsb.SUCCESS) {
                        LibUsb.releaseInterface(handle, iface.number());
                        throw new UsbException("cannot select " + iface + " of " + device.describe(), rc);
                    }
                }
            }
            String serial = readSerial(handle, device.serialIndex());
            ControlMessage.Hello info = null;
            String problem = null;
            try {
                byte[] payload = controlIn(handle, iface.number(), GET_INFO, 0, ControlCodec.MAX_PAYLOAD);
                ControlCodec.Decoded d = ControlCodec.decode(payload);
                if (d.message() instanceof ControlMessage.Hello h)
                    info = h;
                else
                    problem = "GET_INFO answered something other than a HELLO"
                            + (d.malformed() != null ? " (" + d.malformed() + ")" : "");
            } catch (UsbException e) {
                if (e.isNoDevice())
                    throw e;
                problem = e.isBusy() ? "in use by another program (a running 'qbnet run'?)" : e.getMessage();
            }
            return new UsbBoard(context, handle, device, serial, info, problem);
        } catch (UsbException | RuntimeException e) {
            if (claim)
                LibUsb.releaseInterface(handle, iface.number());
            LibUsb.close(handle);
            throw e;
        }
    }

    private static String readSerial(MemorySegment handle, int index) {
        if (index == 0)
            return null;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            int n = LibUsb.stringDescriptorAscii(handle, index, buf, 256);
            if (n <= 0)
                return null;
            return new String(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
        }
    }

    private static byte[] controlIn(MemorySegment handle, int iface, int request, int value, int length)
            throws UsbException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(length);
            int n = LibUsb.controlTransfer(handle,
                    LibUsb.ENDPOINT_IN | LibUsb.REQUEST_TYPE_VENDOR | LibUsb.RECIPIENT_INTERFACE, request, value,
                    iface, buf, length, CONTROL_TIMEOUT_MS);
            if (n < 0)
                throw new UsbException(requestName(request) + " failed", n);
            return buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    private void controlOut(int request, int value) throws UsbException {
        int rc = LibUsb.controlTransfer(handle, LibUsb.REQUEST_TYPE_VENDOR | LibUsb.RECIPIENT_INTERFACE, request, value,
                iface.number(), MemorySegment.NULL, 0, CONTROL_TIMEOUT_MS);
        if (rc < 0)
            throw new UsbException(requestName(request) + " failed", rc);
    }

    private static String requestName(int request) {
        return switch (request) {
            case GET_INFO -> "GET_INFO";
            case RESET_LINK -> "RESET_LINK";
            case LINK_TEST -> "LINK_TEST";
            default -> "vendor request " + request;
        };
    }

    /** RESET_LINK: the board drops what it queued and restarts its session. */
    public void resetLink() throws UsbException {
        controlOut(RESET_LINK, 0);
    }

    /** LINK_TEST: the board fills its IN pipe with channel-65535 bundles for {@code millis} (0 stops). */
    public void linkTest(int millis) throws UsbException {
        if (millis < 0 || millis > 0xFFFF)
            throw new IllegalArgumentException("LINK_TEST lasts 0..65535 ms");
        controlOut(LINK_TEST, millis);
    }

    MemorySegment handle() {
        return handle;
    }

    UsbContext context() {
        return context;
    }

    public QbnetInterface qbnetInterface() {
        return iface;
    }

    public UsbId id() {
        return id;
    }

    /** The bus-port path, "1-2". */
    public String location() {
        return location;
    }

    public String speed() {
        return speed;
    }

    /** The serial string descriptor, or GET_INFO's SERIAL, or null. */
    public String serial() {
        return serial != null ? serial : info != null ? info.serial() : null;
    }

    /** The board's HELLO from GET_INFO, or null (then {@link #infoProblem} says why). */
    public ControlMessage.Hello info() {
        return info;
    }

    public String infoProblem() {
        return infoProblem;
    }

    /** "1209:0001, high speed (480 Mb/s), serial QB1234, qbnetd 0.1.0 (protocol 1-1)". */
    public String summary() {
        StringBuilder s = new StringBuilder().append(id).append(", ").append(speed);
        String serialText = serial();
        s.append(", serial ").append(serialText == null ? "(none)" : serialText);
        if (info != null)
            s.append(", ").append(info.software() == null ? "unknown software" : info.software()).append(" (protocol ")
                    .append(info.versionMin()).append('-').append(info.versionMax()).append(", max bundle ")
                    .append(info.maxBundle()).append(')');
        return s.toString();
    }

    /** Releases the interface and closes the handle; idempotent. */
    @Override
    public synchronized void close() {
        if (closed)
            return;
        closed = true;
        LibUsb.releaseInterface(handle, iface.number()); // fails harmlessly when unplugged or never claimed
        LibUsb.close(handle);
    }
}
