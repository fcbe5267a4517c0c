// The host driver's version, from the jar manifest (a development build says "dev").
package dev.qbkit.qbnet;

public final class Version {
    private Version() {
    }

    public static String get() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
