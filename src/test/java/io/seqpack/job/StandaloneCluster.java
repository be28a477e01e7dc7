package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code scripts/cluster.sh} cluster for one test class: free ports, its own run directory, bounded waits, and
 * the processes as the operating system sees them (the recorded daemon pids, and executor JVMs found from the
 * workers' work folders and their command lines, never from seqpack's own metrics).
 */
final class StandaloneCluster {
  static final Path BASEDIR = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  static final Path SCRIPT = BASEDIR.resolve("scripts/cluster.sh");
  static final long START_TIMEOUT_S = 180;
  static final long STOP_TIMEOUT_S = 90;

  final Path work;
  final Path runDir;
  private final Map<String, String> env = new HashMap<>();
  private boolean started;
  private Thread stopOnExit;

  StandaloneCluster(Path work, Path jar, Map<String, String> extraEnv) throws IOException {
    this.work = work;
    this.runDir = work.resolve("cluster");
    int[] ports = freePorts(2);
    env.put("SEQPACK_CLUSTER_PORT", String.valueOf(ports[0]));
    env.put("SEQPACK_CLUSTER_UI_PORT", String.valueOf(ports[1]));
    env.put("SEQPACK_CLUSTER_DIR", runDir.toString());
    env.put("SEQPACK_CLUSTER_TIMEOUT", "120");
    env.put("SEQPACK_JAR", jar.toString());
    env.putAll(extraEnv);
  }

  /** The shaded jar failsafe names (or the newest target/seqpack-*-all.jar), or null. */
  static Path shadedJar() throws IOException {
    String property = System.getProperty("seqpack.shadedJar");
    if (property != null && !property.isBlank()) {
      return Path.of(property);
    }
    Path target = BASEDIR.resolve("target");
    if (!Files.isDirectory(target)) {
      return null;
    }
    try (Stream<Path> s = Files.list(target)) {
      return s.filter(p -> p.getFileName().toString().matches("seqpack-.*-all\\.jar"))
          .max(Comparator.comparingLong(p -> p.toFile().lastModified())).orElse(null);
    }
  }

  /** Stops a cluster a killed earlier run left in this run directory. */
  void stopLeftover() throws Exception {
    if (Files.exists(runDir.resolve("pids"))) {
      Files.createDirectories(work);
      await(startScript(List.of("stop"), work.resolve("stop-leftover.log")), STOP_TIMEOUT_S,
          work.resolve("stop-leftover.log"));
    }
  }

  /** Starts {@code scripts/cluster.sh start N} without waiting; {@link #awaitStart} waits. */
  Process start(int workers) throws IOException {
    Process p = startScript(List.of("start", String.valueOf(workers)), work.resolve("start.log"));
    started = true;
    stopOnExit = new Thread(this::stopQuietly, "StandaloneCluster-stop");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
    return p;
  }

  int awaitStart(Process start) throws Exception {
    return await(start, START_TIMEOUT_S, work.resolve("start.log"));
  }

  /** {@code scripts/cluster.sh stop}; returns its output. */
  String stop() throws Exception {
    if (!started) {
      return "not started";
    }
    Path log = work.resolve("stop.log");
    int status = await(startScript(List.of("stop"), log), STOP_TIMEOUT_S, log);
    started = false;
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway; stop is idempotent
    }
    String out = read(log).strip();
    if (status != 0) {
      throw new AssertionError("scripts/cluster.sh stop failed (" + status + "):\n" + out);
    }
    return out;
  }

  private void stopQuietly() {
    if (!started) {
      return;
    }
    try {
      Path log = work.resolve("stop-on-exit.log");
      await(startScript(List.of("stop"), log), STOP_TIMEOUT_S, log);
    } catch (Exception | AssertionError e) {
      System.err.println("StandaloneCluster: could not stop the cluster: " + e);
    }
  }

  /** {@code scripts/cluster.sh submit ARGS}, output to {@code log}; the script execs the driver JVM. */
  Process submit(List<String> args, Path log) throws IOException {
    List<String> all = new ArrayList<>(List.of("submit"));
    all.addAll(args);
    return startScript(all, log);
  }

  Process startScript(List<String> args, Path log) throws IOException {
    Files.createDirectories(log.getParent());
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).directory(BASEDIR.toFile()).redirectErrorStream(true);
    pb.redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().remove("SEQPACK_SUBMIT_ARGS");
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Waits for a script; on timeout kills it and everything it started, and fails with its output. */
  static int await(Process process, long timeoutSeconds, Path log) throws Exception {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      fail("timed out after " + timeoutSeconds + " s: " + process.info().commandLine().orElse("scripts/cluster.sh")
          + "\n" + tail(log, 150));
    }
    return process.exitValue();
  }

  // ------------------------------------------------------------------------------------------------ processes

  /** The daemons in the run directory's {@code pids} file: name (master, worker1, ...) → pid. */
  Map<String, Long> daemons() {
    Map<String, Long> daemons = new LinkedHashMap<>();
    for (String line : read(runDir.resolve("pids")).lines().toList()) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 2 && f[1].matches("\\d+")) {
        daemons.put(f[0], Long.parseLong(f[1]));
      }
    }
    return daemons;
  }

  /** The work folder in which the workers create one folder per application and one per executor in it. */
  Path workDir() {
    return runDir.resolve("spark-home/work");
  }

  List<String> applications() throws IOException {
    if (!Files.isDirectory(workDir())) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(workDir())) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("app-")).sorted().toList();
    }
  }

  /** The executor ids with a folder in {@code work/<app>/}. */
  List<String> executorDirs(String app) throws IOException {
    Path dir = workDir().resolve(app);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  Path executorStderr(String app, String executorId) {
    return workDir().resolve(app).resolve(executorId).resolve("stderr");
  }

  /**
   * The live executor JVM of {@code app} with that executor id: a {@code CoarseGrainedExecutorBackend} process whose
   * command line names the app and the id (how the worker launched it) and whose working directory is the
   * executor's folder under the work folder.
   */
  Optional<ProcessHandle> executorProcess(String app, String executorId) {
    Path folder = workDir().resolve(app).resolve(executorId).toAbsolutePath().normalize();
    return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive).filter(p -> {
      List<String> args = commandLine(p.pid());
      if (args.stream().noneMatch(a -> a.endsWith("CoarseGrainedExecutorBackend"))) {
        return false;
      }
      return executorId.equals(argAfter(args, "--executor-id")) && app.equals(argAfter(args, "--app-id"))
          && folder.equals(cwd(p.pid()));
    }).findFirst();
  }

  static List<String> commandLine(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
      List<String> args = new ArrayList<>();
      int start = 0;
      for (int i = 0; i < raw.length; i++) {
        if (raw[i] == 0) {
          args.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
          start = i + 1;
        }
      }
      return args;
    } catch (IOException | SecurityException gone) {
      return List.of();
    }
  }

  private static Path cwd(long pid) {
    try {
      return Path.of("/proc/" + pid + "/cwd").toRealPath();
    } catch (IOException | SecurityException gone) {
      return null;
    }
  }

  private static String argAfter(List<String> args, String flag) {
    int i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : null;
  }

  /** {@code kill -9 PID}, as an operator (or the kernel's OOM killer) would. */
  static void kill9(long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-9", String.valueOf(pid)).redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      fail("kill -9 " + pid + " failed: " + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /** Waits up to {@code seconds} for a process to be gone. */
  static boolean awaitGone(long pid, long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      Optional<ProcessHandle> p = ProcessHandle.of(pid);
      if (p.isEmpty() || !p.get().isAlive()) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------------ files

  static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last lines of a log, for failure messages. */
  static String tail(Path file, int lines) {
    List<String> all = read(file).lines().toList();
    int from = Math.max(0, all.size() - lines);
    return (from > 0 ? "[... " + from + " lines, see " + file + "]\n" : "")
        + String.join("\n", all.subList(from, all.size()));
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static int[] freePorts(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        ServerSocket socket = new ServerSocket(0);
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }
}
