package io.seqpack.nn;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Chooses OpenBLAS's kernels from the CPU's features before the library loads, and reports what it runs on.
 *
 * <p>The OpenBLAS bundled with ND4J ({@code org.bytedeco:openblas} 0.3.19) is built with {@code DYNAMIC_ARCH}:
 * when it loads it picks a "core" (a kernel set) from a table of CPU models known in 2021. A newer CPU it does not
 * know, such as an Intel Xeon of family 6 model 207 (Emerald Rapids), falls back to the generic {@code Prescott}
 * kernels and runs SGEMM about 5× slower without saying so. OpenBLAS reads {@code OPENBLAS_CORETYPE} from the C
 * environment once, in its load-time constructor, so seqpack sets it (with libc's {@code setenv} through JNA; Java
 * cannot change its own environment) from the instruction-set features the kernel reports, before anything loads
 * the library: AVX-512 (F, CD, BW, DQ, VL) → {@code SkylakeX}, AVX2 + FMA → {@code Haswell}, AVX → {@code
 * Sandybridge}. A {@code OPENBLAS_CORETYPE} the user set wins. This runs in every JVM that scores (driver and
 * executors alike), because {@link Gemm} calls {@link #prepare} before its first use of OpenBLAS.
 */
public final class OpenBlasCore {
  private OpenBlasCore() {}

  private static final Logger LOG = Logger.getLogger(OpenBlasCore.class.getName());

  static final String ENV = "OPENBLAS_CORETYPE";

  /** Cores of OpenBLAS's x86-64 table that use no AVX2: slow on a CPU that has it. */
  private static final Set<String> PRE_AVX2_CORES = Set.of("prescott", "core2", "penryn", "dunnington", "nehalem",
      "sandybridge", "atom", "katmai", "coppermine", "northwood", "opteron", "barcelona", "bobcat", "bulldozer",
      "piledriver", "steamroller", "excavator", "unknown");

  /** What the kernel says about the CPU ({@code /proc/cpuinfo}), the part that decides the kernels. */
  public record CpuInfo(String modelName, String vendor, String family, String model, Set<String> flags) {
    public boolean hasAvx512() {
      return flags.containsAll(List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"));
    }

    public boolean hasAvx2() {
      return flags.contains("avx2") && hasFma();
    }

    /** Fused multiply-add ({@code fma}, FMA3): {@link FastMath}'s polynomials use it where it exists. */
    public boolean hasFma() {
      return flags.contains("fma");
    }

    /** {@code "Intel(R) Xeon(R) Processor (family 6, model 207; avx512)"}. */
    public String describe() {
      String isa = hasAvx512() ? "avx512" : hasAvx2() ? "avx2" : flags.contains("avx") ? "avx" : "sse";
      return modelName + " (family " + family + ", model " + model + "; " + isa + ")";
    }

    /** Parses the first processor block of {@code /proc/cpuinfo} text. */
    public static CpuInfo parse(String cpuinfo) {
      String name = "unknown";
      String vendor = "unknown";
      String family = "?";
      String model = "?";
      Set<String> flags = Set.of();
      for (String line : cpuinfo.split("\n")) {
        if (line.isBlank()) {
          break; // end of the first processor
        }
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String key = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        switch (key) {
          case "model name" -> name = value;
          case "vendor_id" -> vendor = value;
          case "cpu family" -> family = value;
          case "model" -> model = value;
          case "flags" -> flags = Set.copyOf(Arrays.asList(value.toLowerCase(Locale.ROOT).split("\\s+")));
          default -> { }
        }
      }
      return new CpuInfo(name, vendor, family, model, flags);
    }

    /**
     * This machine's CPU, or an empty description where {@code /proc/cpuinfo} cannot be read; read once per JVM
     * (the core choice, FastMath, the warning and the kernels line all ask).
     */
    public static CpuInfo current() {
      return Current.CPU;
    }

    private static final class Current {
      static final CpuInfo CPU = read();

      private static CpuInfo read() {
        try {
          return parse(Files.readString(Path.of("/proc/cpuinfo")));
        } catch (IOException | RuntimeException e) {
          return new CpuInfo(System.getProperty("os.arch"), "unknown", "?", "?", Set.of());
        }
      }
    }
  }

  /** The OpenBLAS core seqpack asks for on a CPU with these features, if it asks for one. */
  public static Optional<String> coreFor(CpuInfo cpu) {
    if (cpu.hasAvx512()) {
      return Optional.of("SkylakeX");
    }
    if (cpu.hasAvx2()) {
      return Optional.of("Haswell");
    }
    if (cpu.flags().contains("avx")) {
      return Optional.of("Sandybridge");
    }
    return Optional.empty();
  }

  /** Whether {@code core} (as {@code openblas_get_corename()} spells it) uses no AVX2 on a CPU that has AVX2. */
  public static boolean isGenericFor(String core, CpuInfo cpu) {
    return cpu.hasAvx2() && PRE_AVX2_CORES.contains(core.toLowerCase(Locale.ROOT));
  }

  /** Cores whose SGEMM kernels stop at AVX2 (OpenBLAS's Zen cores use the Haswell kernels). */
  private static final Set<String> AVX2_CORES = Set.of("haswell", "zen");

  /**
   * Whether {@code core} leaves AVX-512 unused on a CPU that has it: the AVX2 kernels (an {@code
   * OPENBLAS_CORETYPE=Haswell} set for other software, or OpenBLAS's own choice on an AMD Zen 4/5) ran SGEMM at
   * 106 GFLOP/s where SkylakeX's ran at 198 on an AVX-512 AMD EPYC (docs/performance.md).
   */
  public static boolean leavesAvx512Unused(String core, CpuInfo cpu) {
    String c = core.toLowerCase(Locale.ROOT);
    return cpu.hasAvx512() && (AVX2_CORES.contains(c) || PRE_AVX2_CORES.contains(c));
  }

  /** How the core was chosen: by the user's environment, by seqpack, or left to OpenBLAS's own detection. */
  private static volatile String choice = "not prepared";

  /**
   * Sets {@code OPENBLAS_CORETYPE} for this process from the CPU's features unless the user set it. Must run
   * before the OpenBLAS library is loaded; later calls do nothing.
   */
  static synchronized void prepare() {
    if (!"not prepared".equals(choice)) {
      return;
    }
    String user = System.getenv(ENV);
    if (user != null && !user.isBlank()) {
      choice = ENV + "=" + user + " (set by the user)";
      return;
    }
    Optional<String> core = coreFor(CpuInfo.current());
    if (core.isEmpty()) {
      choice = "OpenBLAS's own detection";
      return;
    }
    try {
      NativeLibrary.getInstance("c").getFunction("setenv").invokeInt(new Object[] {ENV, core.get(), 0});
      choice = "chosen by seqpack from the CPU's features";
    } catch (Throwable t) { // no JNA, no libc: OpenBLAS detects on its own
      choice = "OpenBLAS's own detection (could not set " + ENV + ": " + t + ")";
    }
  }

  /**
   * {@code openblas_get_corename()} of the loaded library (the bytedeco binding does not map it, so it is called
   * through JNA on the already-loaded {@code libopenblas.so.0}), or {@code "unknown"}.
   */
  static String loadedCoreName() {
    try {
      Function f = NativeLibrary.getInstance("libopenblas.so.0").getFunction("openblas_get_corename");
      String name = f.invokeString(new Object[0], false);
      return name == null ? "unknown" : name.trim();
    } catch (Throwable t) {
      return "unknown";
    }
  }

  /**
   * Logs one warning line when the loaded core is slower than the CPU allows: a generic one on a CPU with AVX2 or
   * AVX-512, or an AVX2 one on a CPU with AVX-512. {@code timeLoopOnOwnKernel}: the recurrent products run on {@link
   * PanelGemm}, so the core slows only the products outside the time loop.
   */
  static void warnIfSlow(String core, boolean timeLoopOnOwnKernel) {
    CpuInfo cpu = CpuInfo.current();
    if (isGenericFor(core, cpu)) {
      LOG.warning("OpenBLAS runs its generic " + core + " kernels on " + cpu.describe() + " (" + choice
          + "); matrix products are several times slower than they could be. Set " + ENV
          + "=" + coreFor(cpu).orElse("Haswell") + " in the environment of every driver and executor.");
    } else if (leavesAvx512Unused(core, cpu)) {
      LOG.warning("OpenBLAS runs its AVX2 " + core + " kernels on " + cpu.describe() + " (" + choice
          + "), which has AVX-512; its SkylakeX kernels multiply up to 1.9x faster"
          + (timeLoopOnOwnKernel ? " (the input projection and heads; the time loop runs on seqpack's own kernel)" : "")
          + ". Unset " + ENV + " or set "
          + ENV + "=SkylakeX in the environment of every driver and executor.");
    }
  }

  /** How the core was chosen, for reports. */
  static String choice() {
    return choice;
  }
}
