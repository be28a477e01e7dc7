package io.seqpack;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import io.seqpack.report.RunReport;
import io.seqpack.summary.RunSummary;
import io.seqpack.util.JsonRecords;

/**
 * The package layering (house style, sections 1 and 8), checked on the production classes: dependencies point down
 * only ({@code cli → job → spark → batching, model, nn, pack, data, summary}; the spark.ml stage {@code ml} sits on
 * {@code spark} beside the job and knows nothing of it), only the Spark glue touches Spark, Hadoop or Scala, {@code data} depends on nothing but the JDK and {@code summary} on nothing but the JDK and {@code util}.
 * "Depends on" is what the bytecode references (fields, signatures, calls, annotations), i.e. imports and fully
 * qualified names alike.
 */
@AnalyzeClasses(packages = "io.seqpack", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** The packages that may use Spark, Hadoop and Scala (ml and bench need not exist). */
  private static final String[] SPARK_GLUE = {
    "io.seqpack.spark..", "io.seqpack.job..", "io.seqpack.cli..", "io.seqpack.ml..", "io.seqpack.bench.."
  };

  /** The engine (plain Java on primitive arrays and ND4J / OpenBLAS) and the run summary, usable without Spark. */
  private static final String[] CORE = {
    "io.seqpack.data..", "io.seqpack.pack..", "io.seqpack.nn..", "io.seqpack.model..", "io.seqpack.batching..",
    "io.seqpack.util..", "io.seqpack.summary.."
  };

  @ArchTest
  static final ArchRule onlyTheSparkGlueUsesSparkHadoopOrScala = noClasses()
      .that().resideOutsideOfPackages(SPARK_GLUE)
      .should().dependOnClassesThat().resideInAnyPackage("org.apache.spark..", "org.apache.hadoop..", "scala..")
      .because("the engine must run (and be tested) without a Spark session; only spark, job, cli, ml and bench"
          + " are Spark glue");

  @ArchTest
  static final ArchRule dataDependsOnlyOnTheJdk = classes()
      .that().resideInAPackage("io.seqpack.data..")
      .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.seqpack.data..")
      .because("data holds plain records over primitive arrays that every layer shares");

  @ArchTest
  static final ArchRule summaryDependsOnlyOnTheJdkAndUtil = classes()
      .that().resideInAPackage("io.seqpack.summary..")
      .should().onlyDependOnClassesThat(resideInAnyPackage("java..", "io.seqpack.summary..", "io.seqpack.util..",
              "com.fasterxml.jackson..")
          .or(belongToAnyOf(SeqpackException.class)))
      .because("the summary is a plain record mapped to JSON by Jackson databind: the job writes it, the CLI prints"
          + " it and the report draws it, so it must not pull in the engine or Spark");

  @ArchTest
  static final ArchRule theLibraryLayerDoesNotDependOnTheJobOrTheCli = noClasses()
      .that().resideInAnyPackage("io.seqpack.spark..", "io.seqpack.ml..")
      .should().dependOnClassesThat().resideInAnyPackage("io.seqpack.job..", "io.seqpack.cli..")
      .because("the job and the spark.ml stage share the library layer: runs, checkpoints, sinks and flags sit "
          + "above it (cli -> job -> spark)");

  @ArchTest
  static final ArchRule theJobDoesNotDependOnTheCliOrTheMlStage = noClasses()
      .that().resideInAPackage("io.seqpack.job..")
      .should().dependOnClassesThat().resideInAnyPackage("io.seqpack.cli..", "io.seqpack.ml..")
      .because("the job is a library entry point of its own (ScoreJob.run); the CLI only resolves its options");

  @ArchTest
  static final ArchRule coreDoesNotDependOnTheLayersAboveIt = noClasses()
      .that().resideInAnyPackage(CORE)
      .should().dependOnClassesThat().resideInAnyPackage("io.seqpack.spark..", "io.seqpack.job..",
          "io.seqpack.cli..", "io.seqpack.ml..", "io.seqpack.report..", "io.seqpack.bench..")
      .because("dependencies point down only: cli -> job -> spark -> batching, model, nn, pack, data, summary");

  @ArchTest
  static final ArchRule reportIsReachedOnlyThroughRunReport = noClasses()
      .that().resideOutsideOfPackage("io.seqpack.report..")
      .should().dependOnClassesThat(resideInAPackage("io.seqpack.report..").and(not(belongToAnyOf(RunReport.class))))
      .because("RunReport is the report package's one entry point; Charts and Html are its internals");

  /** Keeps the rules above from passing vacuously: production classes with their Spark dependencies, no tests. */
  @ArchTest
  static void importHoldsTheProductionClassesAndTheirDependencies(JavaClasses classes) {
    assertTrue(classes.contain(JsonRecords.class) && classes.contain(RunReport.class)
        && classes.contain(RunSummary.class));
    // the summary rule has something to check: the record and its nested parts, and the job builds them
    assertTrue(classes.contain(RunSummary.Scoring.class) && classes.contain(RunSummary.ThroughputPoint.class));
    assertTrue(classes.stream()
        .filter(c -> c.getPackageName().equals("io.seqpack.job"))
        .flatMap(c -> c.getDirectDependenciesFromSelf().stream())
        .anyMatch(d -> d.getTargetClass().isEquivalentTo(RunSummary.class)),
        "io.seqpack.job does not build a RunSummary");
    assertFalse(classes.contain(ArchitectureTest.class), "test classes are imported");
    assertTrue(classes.stream()
        .filter(c -> c.getPackageName().startsWith("io.seqpack.spark"))
        .flatMap(c -> c.getDirectDependenciesFromSelf().stream())
        .anyMatch(d -> d.getTargetClass().getPackageName().startsWith("org.apache.spark")),
        "no dependency of io.seqpack.spark on Spark was imported");
    // the layering rules have something to check: the job uses the library layer and the CLI uses the job
    assertTrue(dependsOn(classes, "io.seqpack.job", "io.seqpack.spark"), "io.seqpack.job does not use spark");
    assertTrue(dependsOn(classes, "io.seqpack.cli", "io.seqpack.job"), "io.seqpack.cli does not use the job");
  }

  private static boolean dependsOn(JavaClasses classes, String from, String to) {
    return classes.stream()
        .filter(c -> c.getPackageName().equals(from))
        .flatMap(c -> c.getDirectDependenciesFromSelf().stream())
        .anyMatch(d -> d.getTargetClass().getPackageName().equals(to));
  }
}
