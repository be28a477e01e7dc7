package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.nn.OpenBlasCore.CpuInfo;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class OpenBlasCoreTest {
  /** The first processor block of an Intel Xeon 8592+ (Emerald Rapids), cut to the keys that matter. */
  private static final String EMERALD_RAPIDS = """
      processor\t: 0
      vendor_id\t: GenuineIntel
      cpu family\t: 6
      model\t\t: 207
      model name\t: INTEL(R) XEON(R) PLATINUM 8592+
      flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx fma avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 amx_tile

      processor\t: 1
      flags\t\t: fpu
      """;

  private static final String EPYC_AVX2 = """
      vendor_id\t: AuthenticAMD
      cpu family\t: 25
      model\t\t: 1
      model name\t: AMD EPYC 7B13
      flags\t\t: fpu sse sse2 avx fma avx2 bmi2
      """;

  private static final String OLD_XEON = """
      vendor_id\t: GenuineIntel
      cpu family\t: 6
      model\t\t: 44
      model name\t: Intel(R) Xeon(R) CPU X5670
      flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2
      """;

  @Test
  void parsesTheFirstProcessorOfProcCpuinfo() {
    CpuInfo cpu = CpuInfo.parse(EMERALD_RAPIDS);
    assertEquals("INTEL(R) XEON(R) PLATINUM 8592+", cpu.modelName());
    assertEquals("6", cpu.family());
    assertEquals("207", cpu.model());
    assertTrue(cpu.hasAvx512());
    assertEquals("INTEL(R) XEON(R) PLATINUM 8592+ (family 6, model 207; avx512)", cpu.describe());
  }

  @Test
  void choosesTheKernelsFromTheInstructionSetNotTheModelNumber() {
    assertEquals(Optional.of("SkylakeX"), OpenBlasCore.coreFor(CpuInfo.parse(EMERALD_RAPIDS)));
    assertEquals(Optional.of("Haswell"), OpenBlasCore.coreFor(CpuInfo.parse(EPYC_AVX2)));
    assertEquals(Optional.empty(), OpenBlasCore.coreFor(CpuInfo.parse(OLD_XEON)), "left to OpenBLAS");
  }

  @Test
  void prescottIsGenericOnlyWhereTheCpuCouldDoBetter() {
    assertTrue(OpenBlasCore.isGenericFor("Prescott", CpuInfo.parse(EMERALD_RAPIDS)));
    assertTrue(OpenBlasCore.isGenericFor("Sandybridge", CpuInfo.parse(EPYC_AVX2)));
    assertFalse(OpenBlasCore.isGenericFor("SkylakeX", CpuInfo.parse(EMERALD_RAPIDS)));
    assertFalse(OpenBlasCore.isGenericFor("Haswell", CpuInfo.parse(EPYC_AVX2)));
    assertFalse(OpenBlasCore.isGenericFor("Prescott", CpuInfo.parse(OLD_XEON)), "nothing better exists there");
    // AVX2 kernels on an AVX-512 CPU (an OPENBLAS_CORETYPE=Haswell meant for other software; Zen 4/5) are slow too
    assertTrue(CpuInfo.parse(EPYC_AVX2).hasFma());
    assertFalse(CpuInfo.parse(OLD_XEON).hasFma(), "no FMA before Haswell: FastMath keeps mul + add there");
    assertTrue(OpenBlasCore.leavesAvx512Unused("Haswell", CpuInfo.parse(EMERALD_RAPIDS)));
    assertTrue(OpenBlasCore.leavesAvx512Unused("Zen", CpuInfo.parse(EMERALD_RAPIDS)));
    assertFalse(OpenBlasCore.leavesAvx512Unused("SkylakeX", CpuInfo.parse(EMERALD_RAPIDS)));
    assertFalse(OpenBlasCore.leavesAvx512Unused("Haswell", CpuInfo.parse(EPYC_AVX2)), "no AVX-512 there");
  }

  /** The point of the class: on the machine the tests run on, OpenBLAS is not on a generic fallback core. */
  @Test
  void theLoadedCoreIsNotAGenericFallbackOnThisMachine() {
    Assumptions.assumeTrue("openblas".equals(Gemm.backend()), "OpenBLAS not in use (-Dseqpack.gemm=java)");
    CpuInfo cpu = CpuInfo.current();
    String core = Gemm.blasCore();
    System.out.println("OpenBlasCoreTest: " + cpu.describe() + " -> OpenBLAS core " + core + " ("
        + OpenBlasCore.choice() + ")");
    assertFalse(OpenBlasCore.isGenericFor(core, cpu), "OpenBLAS core " + core + " on " + cpu.describe());
    if (System.getenv(OpenBlasCore.ENV) == null) {
      assertFalse(OpenBlasCore.leavesAvx512Unused(core, cpu), "OpenBLAS core " + core + " on " + cpu.describe());
      assertEquals(OpenBlasCore.coreFor(cpu).orElse(core).toLowerCase(), core.toLowerCase(),
          "the core seqpack asked for is the one OpenBLAS loaded");
    }
    assertTrue(Gemm.describe().endsWith("openblas " + core), Gemm.describe());
  }
}
