// The host driver's packages depend on each other in one direction only: a
// cycle between two of them (nat and platform, board and control were the
// last) fails here with the classes that close it (ArchUnit slices).
package dev.qbkit.qbnet;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

class PackageCycleTest {
    @Test
    void packagesFormNoCycle() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.qbkit.qbnet");
        // Not vacuous: the production classes of every package were read.
        assertTrue(classes.size() > 80, "only " + classes.size() + " classes imported");
        slices().matching("dev.qbkit.qbnet.(*)..").should().beFreeOfCycles().check(classes);
    }
}
