// Lifecycle hook of the robustness properties: multiplies each property's
// tries by the system property qbnet.tries.factor (`make fuzz` raises it),
// fails a property that ran no tries, and prints one grep-able figure line.
package dev.qbkit.qbnet.robust;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

public final class ScaledTries implements AroundPropertyHook {
    public static final String FACTOR_PROPERTY = "qbnet.tries.factor";
    private static final int DEFAULT_TRIES = 1000;

    /** The factor from the system property; 1 when unset or invalid. */
    static int factor() {
        try {
            return Math.max(1, Integer.parseInt(System.getProperty(FACTOR_PROPERTY, "1").strip()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        int base = context.attributes().tries().orElse(DEFAULT_TRIES);
        long scaled = (long) base * factor();
        int tries = (int) Math.min(Integer.MAX_VALUE, scaled);
        context.attributes().setTries(tries);
        long start = System.nanoTime();
        PropertyExecutionResult result = property.execute();
        double seconds = (System.nanoTime() - start) / 1e9;
        String name = context.containerClass().getSimpleName() + "." + context.targetMethod().getName();
        System.out.printf("robust-property %s: tries=%d checks=%d status=%s %.2f s%n", name, result.countTries(),
                result.countChecks(), result.status(), seconds);
        if (result.status() == PropertyExecutionResult.Status.SUCCESSFUL && result.countChecks() == 0)
            return result.mapToFailed(name + " ran no checks: the property tests nothing");
        return result;
    }
}
