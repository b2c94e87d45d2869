package dev.bertj.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * bertj-core's package layering, checked on its compiled classes (tests excluded):
 * <pre>
 * cli → serve → api → train; cli → explain → train;
 *   train → model → nn → backend ← cpu   (bertj-cuda is another backend, outside core)
 *                 io, tensor, tokenizer below all of them; data (corpora) above io and tokenizer;
 *                 report (HTML and SVG pages) above io only, usable by train, explain and cli
 * </pre>
 * {@code nn} describes parameters and {@code backend} is the interface the layers are written in; the
 * arithmetic lives in the backends, which {@code model}, {@code nn} and {@code train} never name.
 */
class ArchitectureTest {
    private static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.bertj");
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.bertj.(*)..").should().beFreeOfCycles().check(core);
    }

    @Test
    void modelNnAndTrainNeverReachABackendImplementation() {
        noClasses().that().resideInAnyPackage("dev.bertj.api..", "dev.bertj.model..", "dev.bertj.nn..", "dev.bertj.train..", "dev.bertj.explain..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.bertj.cpu..", "dev.bertj.cuda..")
                .because("layers are written against dev.bertj.backend; a backend is chosen at run time").check(core);
    }

    @Test
    void coreNeverDependsOnBertjCuda() {
        noClasses().should().dependOnClassesThat().resideInAPackage("dev.bertj.cuda..")
                .because("bertj-cuda depends on bertj-core, never the other way round").check(core);
    }

    @Test
    void layersPointOneWay() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("cli").definedBy("dev.bertj.cli..")
                .layer("api").definedBy("dev.bertj.api..")
                .layer("serve").definedBy("dev.bertj.serve..")
                .layer("explain").definedBy("dev.bertj.explain..")
                .layer("report").definedBy("dev.bertj.report..")
                .layer("train").definedBy("dev.bertj.train..")
                .layer("model").definedBy("dev.bertj.model..")
                .layer("nn").definedBy("dev.bertj.nn..")
                .layer("backend").definedBy("dev.bertj.backend..")
                .layer("cpu").definedBy("dev.bertj.cpu..")
                .layer("data").definedBy("dev.bertj.data..")
                .layer("base").definedBy("dev.bertj.io..", "dev.bertj.tensor..", "dev.bertj.tokenizer..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("api").mayOnlyBeAccessedByLayers("cli", "serve")
                .whereLayer("api").mayOnlyAccessLayers("train", "model", "nn", "backend", "base")
                .whereLayer("serve").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("serve").mayOnlyAccessLayers("api", "train", "model", "backend", "base")
                .whereLayer("explain").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("explain").mayOnlyAccessLayers("train", "model", "nn", "backend", "report", "base")
                .whereLayer("report").mayOnlyBeAccessedByLayers("cli", "explain", "train")
                .whereLayer("report").mayOnlyAccessLayers("base")
                .whereLayer("train").mayOnlyAccessLayers("model", "nn", "backend", "report", "base")
                .whereLayer("model").mayOnlyAccessLayers("nn", "backend", "base")
                .whereLayer("nn").mayOnlyAccessLayers("backend", "base")
                .whereLayer("backend").mayOnlyAccessLayers("base")
                .whereLayer("cpu").mayOnlyAccessLayers("backend", "base")
                .whereLayer("data").mayOnlyAccessLayers("base")
                .whereLayer("base").mayOnlyAccessLayers("base")
                .check(core);
    }
}
