package dev.bertj.cpu;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bertj runs without jdk.incubator.vector: one warning line, scalar kernels. */
class VectorizationFallbackTest {
    @Test
    void withoutTheVectorModuleBertjFallsBackToScalar() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classes = Path.of(Vectorization.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        Process p = new ProcessBuilder(java, "-cp", classes, "dev.bertj.cli.Main", "info").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
        assertTrue(output.contains("kernels: scalar"), output);
        assertTrue(output.contains("the Vector API is not available"), output);
    }
}
