package io.seqpack.job;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The driver's task lines (Spark's TaskSetManager and TaskSchedulerImpl at INFO, which {@code scripts/cluster.sh}
 * turns on with {@code SEQPACK_CLUSTER_LOG_TASKS=1}), parsed: task sets, and each task attempt with the executor it
 * ran on and how it ended. Re-read from the log on each {@link #parse}; the log of one job is small.
 */
final class DriverTaskLog {
  private static final Pattern TASK_SET = Pattern.compile("Adding task set (\\d+)\\.(\\d+) with (\\d+) tasks");
  private static final Pattern STARTING = Pattern.compile(
      "Starting task (\\d+)\\.(\\d+) in stage (\\d+)\\.(\\d+) \\(TID (\\d+)\\) \\([^,]*,\\s*executor ([^,]+),\\s*partition");
  private static final Pattern FINISHED = Pattern.compile(
      "Finished task (\\d+)\\.(\\d+) in stage (\\d+)\\.(\\d+) \\(TID (\\d+)\\) in \\d+ ms on \\S+ \\(executor ([^)]+)\\)");
  private static final Pattern LOST = Pattern.compile(
      "Lost task (\\d+)\\.(\\d+) in stage (\\d+)\\.(\\d+) \\(TID (\\d+)\\)(.*)");
  /** A task whose executor went away for a reason Spark does not blame on the task (e.g. its worker died). */
  private static final Pattern EXECUTOR_GONE = Pattern.compile(
      "task (\\d+)\\.(\\d+) in stage (\\d+)\\.(\\d+) \\(TID (\\d+)\\) (failed because while it was being computed, its"
          + " executor exited.*)");

  // Spark 4.1 and 4.2 write "(127.0.0.1,executor 1, partition 0, ...)": no space after the host's comma; earlier versions
  // had one. Both match.

  /** One task attempt. */
  static final class Attempt {
    final long tid;
    final int stage;
    final int partition;
    final int attempt;
    final String executor;
    boolean finished;
    String lost; // the rest of the "Lost task" line, or null

    Attempt(long tid, int stage, int partition, int attempt, String executor) {
      this.tid = tid;
      this.stage = stage;
      this.partition = partition;
      this.attempt = attempt;
      this.executor = executor;
    }

    boolean running() {
      return !finished && lost == null;
    }

    @Override
    public String toString() {
      return "task " + partition + "." + attempt + " in stage " + stage + " (TID " + tid + ") on executor " + executor
          + (finished ? ", finished" : lost != null ? ", lost:" + lost : ", running");
    }
  }

  /** stage id → number of tasks, in the order the task sets were added. */
  final Map<Integer, Integer> taskSets = new LinkedHashMap<>();
  final Map<Long, Attempt> attempts = new LinkedHashMap<>();

  static DriverTaskLog parse(Path log) {
    DriverTaskLog t = new DriverTaskLog();
    for (String line : StandaloneCluster.read(log).lines().toList()) {
      Matcher m = TASK_SET.matcher(line);
      if (m.find()) {
        t.taskSets.putIfAbsent(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(3)));
        continue;
      }
      m = STARTING.matcher(line);
      if (m.find()) {
        long tid = Long.parseLong(m.group(5));
        t.attempts.put(tid, new Attempt(tid, Integer.parseInt(m.group(3)), Integer.parseInt(m.group(1)),
            Integer.parseInt(m.group(2)), m.group(6).trim()));
        continue;
      }
      m = FINISHED.matcher(line);
      if (m.find()) {
        Attempt a = t.attempts.get(Long.parseLong(m.group(5)));
        if (a != null) {
          a.finished = true;
        }
        continue;
      }
      m = LOST.matcher(line);
      if (!m.find()) {
        m = EXECUTOR_GONE.matcher(line);
        if (!m.find()) {
          continue;
        }
      }
      Attempt a = t.attempts.get(Long.parseLong(m.group(5)));
      if (a != null) {
        a.lost = m.group(6);
      }
    }
    return t;
  }

  /** The first stage with at least {@code minTasks} tasks (the scoring stage of a seqpack job), or -1. */
  int firstStageWithAtLeast(int minTasks) {
    return taskSets.entrySet().stream().filter(e -> e.getValue() >= minTasks).mapToInt(Map.Entry::getKey)
        .findFirst().orElse(-1);
  }

  List<Attempt> inStage(int stage) {
    List<Attempt> list = new ArrayList<>();
    for (Attempt a : attempts.values()) {
      if (a.stage == stage) {
        list.add(a);
      }
    }
    return list;
  }

  long finishedIn(int stage) {
    return inStage(stage).stream().filter(a -> a.finished).count();
  }
}
