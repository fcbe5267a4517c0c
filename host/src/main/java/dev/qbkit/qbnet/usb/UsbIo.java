// The libusb calls a UsbLink makes on one opened board: its bulk transfers
// (allocate, submit, cancel, free), clearing a halt, and letting the board go.
// forBoard() is libusb itself; tests put a fake libusb here to drive
// completions, cancels and the release in any order, with no USB device.
package dev.qbkit.qbnet.usb;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodType;

interface UsbIo {
    /** The board's bus-port path, for logs. */
    String location();

    QbnetInterface qbnetInterface();

    /** The libusb_device_handle transfers are bound to. */
    MemorySegment handle();

    /** A zeroed struct libusb_transfer, or NULL when out of memory. */
    MemorySegment allocTransfer();

    /** The function libusb calls when a transfer completes ({@link UsbTransfer#callback}). */
    MemorySegment transferCallback();

    int submitTransfer(MemorySegment transfer);

    int cancelTransfer(MemorySegment transfer);

    /** Only for a transfer that is not in flight. */
    void freeTransfer(MemorySegment transfer);

    /** Blocking: never on a board loop. */
    int clearHalt(int endpoint);

    /** Releases the interface and closes the handle (blocking). */
    void close();

    /** libusb on an opened, claimed board. */
    static UsbIo forBoard(UsbBoard board) {
        return new UsbIo() {
            @Override
            public String location() {
                return board.location();
            }

            @Override
            public QbnetInterface qbnetInterface() {
                return board.qbnetInterface();
            }

            @Override
            public MemorySegment handle() {
                return board.handle();
            }

            @Override
            public MemorySegment allocTransfer() {
                return LibUsb.allocTransfer();
            }

            @Override
            public MemorySegment transferCallback() {
                return CallbackStub.STUB;
            }

            @Override
            public int submitTransfer(MemorySegment transfer) {
                return LibUsb.submitTransfer(transfer);
            }

            @Override
            public int cancelTransfer(MemorySegment transfer) {
                return LibUsb.cancelTransfer(transfer);
            }

            @Override
            public void freeTransfer(MemorySegment transfer) {
                LibUsb.freeTransfer(transfer);
            }

            @Override
            public int clearHalt(int endpoint) {
                return LibUsb.clearHalt(board.handle(), endpoint);
            }

            @Override
            public void close() {
                board.close();
            }
        };
    }

    /** The one upcall stub for every transfer, made at first use and alive for the process. */
    final class CallbackStub {
        static final MemorySegment STUB = LibUsb.upcall(UsbTransfer.class, "callback",
                MethodType.methodType(void.class, MemorySegment.class), LibUsb.TRANSFER_CALLBACK);

        private CallbackStub() {
        }
    }
}
