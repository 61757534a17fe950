package io.vocodex.backend.cuda;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a {@code cuda}-tagged test class only where a CUDA device is usable; elsewhere the whole class
 * is skipped and says so in one line ({@code [cuda] CudaMimiTest skipped: <reason>}), so a machine
 * without a GPU shows why each GPU test did not run instead of a wall of per-method assumptions.
 *
 * <pre>{@code
 * @Tag("cuda")
 * @ExtendWith(RequiresGpu.class)
 * class CudaSomethingTest { ... }   // @BeforeAll may open a CudaContext unconditionally
 * }</pre>
 */
public final class RequiresGpu implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        CudaProbe.Result probe = CudaProbe.probe();
        if (probe.available()) {
            return ConditionEvaluationResult.enabled("CUDA device available");
        }
        if (context.getTestMethod().isEmpty()) { // the class: say it once
            System.out.println("[cuda] " + context.getRequiredTestClass().getSimpleName() + " skipped: " + probe.reason());
        }
        return ConditionEvaluationResult.disabled("no usable CUDA device: " + probe.reason());
    }
}
