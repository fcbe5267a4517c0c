// The libusb-1.0 functions and constants qbnet uses, bound once with the FFM
// API (downcall handles, two upcall stubs). Thin: each method is one native
// call; meaning, ownership and threading live in the classes that call these.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_CHAR;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

import dev.qbkit.qbnet.platform.Platform;

// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
final class LibUsb {
    // enum libusb_error
    static final int SUCCESS = 0;
    static final int ERROR_IO = -1;
    static final int ERROR_INVALID_PARAM = -2;
    static final int ERROR_ACCESS = -3;
    static final int ERROR_NO_DEVICE = -4;
    static final int ERROR_NOT_FOUND = -5;
    static final int ERROR_BUSY = -6;
    static final int ERROR_TIMEOUT = -7;
    static final int ERROR_OVERFLOW = -8;
    static final int ERROR_PIPE = -9;
    static final int ERROR_INTERRUPTED = -10;
    static final int ERROR_NO_MEM = -11;
    static final int ERROR_NOT_SUPPORTED = -12;

    // enum libusb_transfer_status
    static final int TRANSFER_COMPLETED = 0;
    static final int TRANSFER_ERROR = 1;
    static final int TRANSFER_TIMED_OUT = 2;
    static final int TRANSFER_CANCELLED = 3;
    static final int TRANSFER_STALL = 4;
    static final int TRANSFER_NO_DEVICE = 5;
    static final int TRANSFER_OVERFLOW = 6;

    static final int TRANSFER_TYPE_BULK = 2;
    static final int TRANSFER_ADD_ZERO_PACKET = 1 << 3;

    static final int ENDPOINT_IN = 0x80;
    static final int REQUEST_TYPE_VENDOR = 0x40;
    static final int RECIPIENT_INTERFACE = 0x01;
    static final int TRANSFER_TYPE_MASK = 0x03;

    static final int CAP_HAS_HOTPLUG = 0x0001;
    static final int HOTPLUG_EVENT_DEVICE_ARRIVED = 1;
    static final int HOTPLUG_EVENT_DEVICE_LEFT = 2;
    static final int HOTPLUG_MATCH_ANY = -1;

    static final int OPTION_LOG_LEVEL = 0;
    static final int LOG_LEVEL_NONE = 0;
    static final int LOG_LEVEL_WARNING = 2;
    static final int LOG_LEVEL_DEBUG = 4;

    // enum libusb_speed
    static final String[] SPEED_NAMES = { "unknown speed", "low speed (1.5 Mb/s)", "full speed (12 Mb/s)",
            "high speed (480 Mb/s)", "SuperSpeed (5 Gb/s)", "SuperSpeed+ (10 Gb/s)", "SuperSpeed+ (20 Gb/s)" };

    /**
     * C {@code unsigned char} / {@code uint8_t} arguments (endpoints, request
     * types, descriptor indexes). FFM has no unsigned 8-bit carrier and
     * sign-extends JAVA_BYTE, so endpoint 0x81 reached a callee that relies on
     * its caller's extension (code from clang on x86-64, the Apple arm64 ABI)
     * as 0xFFFFFF81. They go as a zero-extended int: each such argument here is
     * passed in a register or a whole stack slot on every ABI qbnet runs on,
     * where that is what C expects of an unsigned char.
     */
    static final ValueLayout U8 = JAVA_INT;
    /** C {@code uint16_t} arguments: JAVA_CHAR, FFM's one unsigned carrier, zero-extended. */
    static final ValueLayout U16 = JAVA_CHAR;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIB = load();
    /** C ssize_t/size_t, widened to long by {@link #getDeviceList}. */
    private static final java.lang.foreign.MemoryLayout SIZE_T = LINKER.canonicalLayouts().get("size_t");

    private static final MethodHandle INIT = function("libusb_init", JAVA_INT, ADDRESS);
    private static final MethodHandle INIT_CONTEXT = optional("libusb_init_context", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
    private static final MethodHandle EXIT = procedure("libusb_exit", ADDRESS);
    private static final MethodHandle SET_OPTION_INT = optionalVariadic("libusb_set_option",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle GET_VERSION = function("libusb_get_version", ADDRESS);
    private static final MethodHandle HAS_CAPABILITY = function("libusb_has_capability", JAVA_INT, JAVA_INT);
    private static final MethodHandle ERROR_NAME = function("libusb_error_name", ADDRESS, JAVA_INT);
    private static final MethodHandle STRERROR = optional("libusb_strerror", ADDRESS, JAVA_INT);
    private static final MethodHandle GET_DEVICE_LIST = function("libusb_get_device_list", SIZE_T, ADDRESS, ADDRESS)
            .asType(MethodType.methodType(long.class, MemorySegment.class, MemorySegment.class));
    private static final MethodHandle FREE_DEVICE_LIST = procedure("libusb_free_device_list", ADDRESS, JAVA_INT);
    private static final MethodHandle REF_DEVICE = function("libusb_ref_device", ADDRESS, ADDRESS);
    private static final MethodHandle UNREF_DEVICE = procedure("libusb_unref_device", ADDRESS);
    private static final MethodHandle GET_DEVICE_DESCRIPTOR = function("libusb_get_device_descriptor", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle GET_ACTIVE_CONFIG_DESCRIPTOR = function("libusb_get_active_config_descriptor",
            JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle FREE_CONFIG_DESCRIPTOR = procedure("libusb_free_config_descriptor", ADDRESS);
    private static final MethodHandle GET_BUS_NUMBER = function("libusb_get_bus_number", JAVA_BYTE, ADDRESS);
    private static final MethodHandle GET_PORT_NUMBERS = function("libusb_get_port_numbers", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
    private static final MethodHandle GET_DEVICE_ADDRESS = function("libusb_get_device_address", JAVA_BYTE, ADDRESS);
    private static final MethodHandle GET_DEVICE_SPEED = function("libusb_get_device_speed", JAVA_INT, ADDRESS);
    private static final MethodHandle OPEN = function("libusb_open", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle CLOSE = procedure("libusb_close", ADDRESS);
    private static final MethodHandle SET_AUTO_DETACH = function("libusb_set_auto_detach_kernel_driver", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle CLAIM_INTERFACE = function("libusb_claim_interface", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle RELEASE_INTERFACE = function("libusb_release_interface", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle SET_ALT_SETTING = function("libusb_set_interface_alt_setting", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle CLEAR_HALT = function("libusb_clear_halt", JAVA_INT, ADDRESS, U8);
    private static final MethodHandle CONTROL_TRANSFER = function("libusb_control_transfer", JAVA_INT, ADDRESS, U8, U8,
            U16, U16, ADDRESS, U16, JAVA_INT);
    private static final MethodHandle GET_STRING_ASCII = function("libusb_get_string_descriptor_ascii", JAVA_INT, ADDRESS,
            U8, ADDRESS, JAVA_INT);
    private static final MethodHandle ALLOC_TRANSFER = function("libusb_alloc_transfer", ADDRESS, JAVA_INT);
    private static final MethodHandle FREE_TRANSFER = procedure("libusb_free_transfer", ADDRESS);
    private static final MethodHandle SUBMIT_TRANSFER = function("libusb_submit_transfer", JAVA_INT, ADDRESS);
    private static final MethodHandle CANCEL_TRANSFER = function("libusb_cancel_transfer", JAVA_INT, ADDRESS);
    private static final MethodHandle HANDLE_EVENTS = function("libusb_handle_events_timeout_completed", JAVA_INT, ADDRESS,
            ADDRESS, ADDRESS);
    private static final MethodHandle INTERRUPT_EVENT_HANDLER = optionalProcedure("libusb_interrupt_event_handler", ADDRESS);
    private static final MethodHandle HOTPLUG_REGISTER = function("libusb_hotplug_register_callback", JAVA_INT, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    private static final MethodHandle HOTPLUG_DEREGISTER = procedure("libusb_hotplug_deregister_callback", ADDRESS, JAVA_INT);

    /** void (*libusb_transfer_cb_fn)(struct libusb_transfer *) */
    static final FunctionDescriptor TRANSFER_CALLBACK = FunctionDescriptor.ofVoid(ADDRESS);
    /** int (*libusb_hotplug_callback_fn)(libusb_context *, libusb_device *, libusb_hotplug_event, void *) */
    static final FunctionDescriptor HOTPLUG_CALLBACK = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);

    private LibUsb() {
    }

    private static SymbolLookup load() {
        try {
            return Platform.libusb();
        } catch (Platform.LibraryMissing e) {
            // UsbContext.open() loads the library first and reports this cleanly.
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static MethodHandle function(String name, java.lang.foreign.MemoryLayout result,
            java.lang.foreign.MemoryLayout... args) {
        return LINKER.downcallHandle(symbol(name), FunctionDescriptor.of(result, args));
    }

    private static MethodHandle procedure(String name, java.lang.foreign.MemoryLayout... args) {
        return LINKER.downcallHandle(symbol(name), FunctionDescriptor.ofVoid(args));
    }

    private static MethodHandle optional(String name, java.lang.foreign.MemoryLayout result,
            java.lang.foreign.MemoryLayout... args) {
        return LIB.find(name).map(s -> LINKER.downcallHandle(s, FunctionDescriptor.of(result, args))).orElse(null);
    }

    private static MethodHandle optionalProcedure(String name, java.lang.foreign.MemoryLayout... args) {
        return LIB.find(name).map(s -> LINKER.downcallHandle(s, FunctionDescriptor.ofVoid(args))).orElse(null);
    }

    private static MethodHandle optionalVariadic(String name, FunctionDescriptor d, int firstVariadic) {
        Optional<MemorySegment> s = LIB.find(name);
        return s.map(sym -> LINKER.downcallHandle(sym, d, Linker.Option.firstVariadicArg(firstVariadic))).orElse(null);
    }

    private static MemorySegment symbol(String name) {
        return LIB.find(name).orElseThrow(() -> new IllegalStateException(
                "the loaded libusb-1.0 has no " + name + ": it is too old, install libusb 1.0.22 or later"));
    }

    /** An upcall stub for {@code target} (a static method of {@code owner}), alive for the whole process. */
    static MemorySegment upcall(Class<?> owner, String method, MethodType type, FunctionDescriptor descriptor) {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(owner, method, type);
            return LINKER.upcallStub(target, descriptor, Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RuntimeException fail(Throwable t) {
        if (t instanceof RuntimeException r)
            return r;
        if (t instanceof Error e)
            throw e;
        return new IllegalStateException(t);
    }

    // ---- context and library ------------------------------------------------

    /** libusb_init_context (1.0.27+) when present, else libusb_init. */
    static int init(MemorySegment contextOut) {
        try {
            if (INIT_CONTEXT != null)
                return (int) INIT_CONTEXT.invokeExact(contextOut, MemorySegment.NULL, 0);
            return (int) INIT.invokeExact(contextOut);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static void exit(MemorySegment context) {
        try {
            EXIT.invokeExact(context);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** Sets the log level; false when this libusb has no libusb_set_option (before 1.0.22). */
    static boolean setLogLevel(MemorySegment context, int level) {
        if (SET_OPTION_INT == null)
            return false;
        try {
            return (int) SET_OPTION_INT.invokeExact(context, OPTION_LOG_LEVEL, level) == SUCCESS;
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** "1.0.26.11724" and an rc suffix if any. */
    static String version() {
        try {
            MemorySegment v = ((MemorySegment) GET_VERSION.invokeExact()).reinterpret(LibUsbStructs.VERSION.byteSize());
            String rc = cString(v.get(ADDRESS, LibUsbStructs.VERSION_RC));
            return Short.toUnsignedInt(v.get(JAVA_SHORT, LibUsbStructs.VERSION_MAJOR)) + "."
                    + Short.toUnsignedInt(v.get(JAVA_SHORT, LibUsbStructs.VERSION_MINOR)) + "."
                    + Short.toUnsignedInt(v.get(JAVA_SHORT, LibUsbStructs.VERSION_MICRO)) + "."
                    + Short.toUnsignedInt(v.get(JAVA_SHORT, LibUsbStructs.VERSION_NANO)) + (rc == null ? "" : rc);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static boolean hasCapability(int capability) {
        try {
            return (int) HAS_CAPABILITY.invokeExact(capability) != 0;
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** "LIBUSB_ERROR_ACCESS (Access denied (insufficient permissions))". */
    static String describe(int error) {
        try {
            String name = cString((MemorySegment) ERROR_NAME.invokeExact(error));
            String text = STRERROR == null ? null : cString((MemorySegment) STRERROR.invokeExact(error));
            return text == null ? name : name + " (" + text + ")";
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** The name of a transfer status, e.g. "LIBUSB_TRANSFER_STALL". */
    static String transferStatusName(int status) {
        return switch (status) {
            case TRANSFER_COMPLETED -> "LIBUSB_TRANSFER_COMPLETED";
            case TRANSFER_ERROR -> "LIBUSB_TRANSFER_ERROR";
            case TRANSFER_TIMED_OUT -> "LIBUSB_TRANSFER_TIMED_OUT";
            case TRANSFER_CANCELLED -> "LIBUSB_TRANSFER_CANCELLED";
            case TRANSFER_STALL -> "LIBUSB_TRANSFER_STALL";
            case TRANSFER_NO_DEVICE -> "LIBUSB_TRANSFER_NO_DEVICE";
            case TRANSFER_OVERFLOW -> "LIBUSB_TRANSFER_OVERFLOW";
            default -> "transfer status " + status;
        };
    }

    static String cString(MemorySegment p) {
        if (p.equals(MemorySegment.NULL))
            return null;
        return p.reinterpret(4096).getString(0);
    }

    // ---- devices ------------------------------------------------------------

    /** Fills {@code listOut} with a NULL-terminated array of devices; returns their count or an error. */
    static long getDeviceList(MemorySegment context, MemorySegment listOut) {
        try {
            return (long) GET_DEVICE_LIST.invokeExact(context, listOut);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static void freeDeviceList(MemorySegment list, boolean unrefDevices) {
        try {
            FREE_DEVICE_LIST.invokeExact(list, unrefDevices ? 1 : 0);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static MemorySegment refDevice(MemorySegment device) {
        try {
            return (MemorySegment) REF_DEVICE.invokeExact(device);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static void unrefDevice(MemorySegment device) {
        try {
            UNREF_DEVICE.invokeExact(device);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int getDeviceDescriptor(MemorySegment device, MemorySegment descriptor) {
        try {
            return (int) GET_DEVICE_DESCRIPTOR.invokeExact(device, descriptor);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int getActiveConfigDescriptor(MemorySegment device, MemorySegment configOut) {
        try {
            return (int) GET_ACTIVE_CONFIG_DESCRIPTOR.invokeExact(device, configOut);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static void freeConfigDescriptor(MemorySegment config) {
        try {
            FREE_CONFIG_DESCRIPTOR.invokeExact(config);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int busNumber(MemorySegment device) {
        try {
            return Byte.toUnsignedInt((byte) GET_BUS_NUMBER.invokeExact(device));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int portNumbers(MemorySegment device, MemorySegment ports, int capacity) {
        try {
            return (int) GET_PORT_NUMBERS.invokeExact(device, ports, capacity);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int deviceAddress(MemorySegment device) {
        try {
            return Byte.toUnsignedInt((byte) GET_DEVICE_ADDRESS.invokeExact(device));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int deviceSpeed(MemorySegment device) {
        try {
            return (int) GET_DEVICE_SPEED.invokeExact(device);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    // ---- handles --------------------------------------------------------------

    static int open(MemorySegment device, MemorySegment handleOut) {
        try {
            return (int) OPEN.invokeExact(device, handleOut);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static void close(MemorySegment handle) {
        try {
            CLOSE.invokeExact(handle);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int setAutoDetachKernelDriver(MemorySegment handle, boolean enable) {
        try {
            return (int) SET_AUTO_DETACH.invokeExact(handle, enable ? 1 : 0);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int claimInterface(MemorySegment handle, int number) {
        try {
            return (int) CLAIM_INTERFACE.invokeExact(handle, number);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int releaseInterface(MemorySegment handle, int number) {
        try {
            return (int) RELEASE_INTERFACE.invokeExact(handle, number);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int setInterfaceAltSetting(MemorySegment handle, int number, int altSetting) {
        try {
            return (int) SET_ALT_SETTING.invokeExact(handle, number, altSetting);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int clearHalt(MemorySegment handle, int endpoint) {
        try {
            return (int) CLEAR_HALT.invokeExact(handle, endpoint & 0xff);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** Synchronous; returns the bytes transferred or an error. Never call it on the event thread. */
    static int controlTransfer(MemorySegment handle, int requestType, int request, int value, int index,
            MemorySegment data, int length, int timeoutMillis) {
        try {
            return (int) CONTROL_TRANSFER.invokeExact(handle, requestType & 0xff, request & 0xff, (char) value,
                    (char) index, data, (char) length, timeoutMillis);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int stringDescriptorAscii(MemorySegment handle, int index, MemorySegment data, int length) {
        try {
            return (int) GET_STRING_ASCII.invokeExact(handle, index & 0xff, data, length);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    // ---- asynchronous transfers -----------------------------------------------

    static MemorySegment allocTransfer() {
        try {
            return (MemorySegment) ALLOC_TRANSFER.invokeExact(0);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static void freeTransfer(MemorySegment transfer) {
        try {
            FREE_TRANSFER.invokeExact(transfer);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int submitTransfer(MemorySegment transfer) {
        try {
            return (int) SUBMIT_TRANSFER.invokeExact(transfer);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int cancelTransfer(MemorySegment transfer) {
        try {
            return (int) CANCEL_TRANSFER.invokeExact(transfer);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static int handleEventsTimeoutCompleted(MemorySegment context, MemorySegment timeval) {
        try {
            return (int) HANDLE_EVENTS.invokeExact(context, timeval, MemorySegment.NULL);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** Wakes a thread blocked in event handling; false when this libusb lacks it (before 1.0.21). */
    static boolean interruptEventHandler(MemorySegment context) {
        if (INTERRUPT_EVENT_HANDLER == null)
            return false;
        try {
            INTERRUPT_EVENT_HANDLER.invokeExact(context);
            return true;
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    // ---- hotplug --------------------------------------------------------------

    static int hotplugRegister(MemorySegment context, int events, MemorySegment callback, MemorySegment handleOut) {
        try {
            return (int) HOTPLUG_REGISTER.invokeExact(context, events, 0, HOTPLUG_MATCH_ANY, HOTPLUG_MATCH_ANY,
                    HOTPLUG_MATCH_ANY, callback, MemorySegment.NULL, handleOut);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    static void hotplugDeregister(MemorySegment context, int handle) {
        try {
            HOTPLUG_DEREGISTER.invokeExact(context, handle);
        } catch (Throwable t) {
            throw fail(t);
        }
    }
}
