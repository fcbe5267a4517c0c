// A libusb call that failed: the libusb error code (so callers can tell
// "unplugged" or "permission denied" from the rest) and a one-line message.
package dev.qbkit.qbnet.usb;

public final class UsbException extends Exception {
    private final int error;

    UsbException(String what, int error) {
        super(what + ": " + LibUsb.describe(error), null, false, false);
        this.error = error;
    }

    /** A failure that is not a libusb error code (the message says what). */
    UsbException(String message) {
        super(message, null, false, false);
        this.error = 0;
    }

    /** The libusb error code (LIBUSB_ERROR_*), or 0 when the failure is not one. */
    public int error() {
        return error;
    }

    public boolean isNoDevice() {
        return error == LibUsb.ERROR_NO_DEVICE;
    }

    public boolean isAccessDenied() {
        return error == LibUsb.ERROR_ACCESS;
    }

    public boolean isBusy() {
        return error == LibUsb.ERROR_BUSY;
    }
}
