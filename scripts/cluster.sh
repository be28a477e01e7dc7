#!/usr/bin/env bash
# A Spark standalone cluster on this machine (127.0.0.1) for trying seqpack the way it runs in production:
# a master, N workers and, per job, executors in their own JVMs. No Spark distribution is needed: the
# daemons run with plain `java -cp` from the Maven jars the build lists in target/classpath.txt, and
# `submit` does what `spark-submit --deploy-mode client` does (it runs org.apache.spark.deploy.SparkSubmit).
#
#   mvn -B package -DskipTests                 # target/classpath.txt + target/seqpack-<version>-all.jar
#   scripts/cluster.sh start                   # master + 2 workers (1 core, 1g each); `start 3` for 3
#   scripts/cluster.sh submit score --input data.parquet --model models/m --output out --mode overwrite
#   scripts/cluster.sh status                  # the daemons, their executors and memory use
#   scripts/cluster.sh executors               # one line per executor JVM: worker pid app-id executor-id pid rss-MB
#   scripts/cluster.sh stop                    # workers (and their executors) first, then the master
#
# Everything lives under target/cluster/: master.log, worker<i>.log, pids, and spark-home/ (a minimal
# SPARK_HOME whose work/ folder holds each application's executor logs: work/app-*/<executor id>/stderr).
# Environment (defaults in brackets):
#   SEQPACK_CLUSTER_PORT [7077]      master RPC port      SEQPACK_CLUSTER_UI_PORT [8080]  master web UI
#   SEQPACK_CLUSTER_DIR [target/cluster]                  run directory (logs, pids, spark-home)
#   SEQPACK_CLUSTER_TIMEOUT [90]     seconds to wait for each daemon to come up
#   SEQPACK_DAEMON_MEMORY [256m]     heap of the master and worker JVMs (not of the executors)
#   SEQPACK_WORKER_MEMORY [1g]       memory a worker offers to executors   SEQPACK_EXECUTOR_MEMORY [768m]
#   SEQPACK_DRIVER_MEMORY [1g]       heap of the submit (driver) JVM
#   SEQPACK_JAR                      the application jar [newest target/seqpack-*-all.jar]
#   SEQPACK_MAIN_CLASS [io.seqpack.cli.Main]  the application's main class: your own Spark application that
#                                    uses seqpack as a library (a saved PipelineModel, say) runs with
#                                    SEQPACK_JAR=your.jar SEQPACK_SUBMIT_ARGS="--jars target/seqpack-*-all.jar"
#   SEQPACK_SUBMIT_ARGS              extra SparkSubmit flags, e.g. "--conf spark.executor.memory=2g"
#   SEQPACK_CLUSTER_LOG_TASKS [0]    1 at `start`: the driver logs every task start, finish and loss (with its
#                                    executor) and executors log the tasks they run, as Spark does by default
#                                    (fault drills and ClusterFaultIT read these lines)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${SEQPACK_CLUSTER_PORT:-7077}
UI_PORT=${SEQPACK_CLUSTER_UI_PORT:-8080}
RUN=$(realpath -m "${SEQPACK_CLUSTER_DIR:-$ROOT/target/cluster}")  # absolute: executors are found by their cwd
TIMEOUT=${SEQPACK_CLUSTER_TIMEOUT:-90}
MASTER_URL=spark://127.0.0.1:$PORT
CP_FILE=$ROOT/target/classpath.txt
PIDS=$RUN/pids

# Spark's launcher scripts normally set these. SPARK_HOME only needs an (empty) jars/ folder: the worker
# builds executor command lines from it, and SPARK_SCALA_VERSION spares it looking for a build tree.
export SPARK_HOME=$RUN/spark-home SPARK_SCALA_VERSION=2.13
export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=127.0.0.1
# One BLAS/OpenMP thread per task: each executor runs one task per core already.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

die() { echo "cluster.sh: $*" >&2; exit 1; }

# The --add-opens list spark-submit adds on Java 17+ (org.apache.spark.launcher.JavaModuleOptions), kept in
# one place: the pom's spark.jvm.opens property.
java_opens() {
  local opens
  opens=$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$ROOT/pom.xml")
  [ -n "$opens" ] || die "cannot read the spark.jvm.opens property from $ROOT/pom.xml"
  echo "$opens"
}

need_build() {
  [ -s "$CP_FILE" ] || die "$CP_FILE is missing: run 'mvn -B package -DskipTests' first"
}

# What a Spark distribution's jars/ folder would hold: the runtime classpath minus the jars that
# target/seqpack-*-all.jar carries itself (ND4J and friends: the maven-shade-plugin <include>s in pom.xml).
# The driver and the executors get only this, so the job really runs from the shaded jar, as on a cluster.
spark_classpath() {
  local include group artifact patterns=()
  for include in $(sed -n '/<artifactSet>/,/<\/artifactSet>/s:.*<include>\(.*\)</include>.*:\1:p' "$ROOT/pom.xml"); do
    group=${include%%:*} artifact=${include#*:}
    [ "$artifact" = "*" ] && artifact=""
    patterns+=(-e "/${group//.//}/${artifact:+$artifact/}")   # org.nd4j:* -> /org/nd4j/
  done
  [ ${#patterns[@]} -gt 0 ] || die "cannot read the maven-shade-plugin includes from $ROOT/pom.xml"
  tr ':' '\n' < "$CP_FILE" | grep -vF "${patterns[@]}" | paste -sd: -
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A recorded PID is ours only while its command line is still the Spark class we started (PIDs get reused).
is_spark() { # pid class-name
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q "$2"
}

recorded() { [ -s "$PIDS" ] && cat "$PIDS"; }

live_daemons() { # prints "name pid" of the recorded daemons that are still running
  local name pid
  recorded | while read -r name pid; do
    is_spark "$pid" 'org\.apache\.spark\.deploy\.' && echo "$name $pid"
  done
}

executors_of() { # executor JVMs started by a worker
  local kid
  for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    is_spark "$kid" CoarseGrainedExecutorBackend && echo "$kid"
  done
}

arg_of() { # pid flag: the value after a flag on a process's command line
  tr '\0' '\n' < "/proc/$1/cmdline" 2>/dev/null | sed -n "/^$2\$/{n;p;q}"
}

# Executor JVMs whose working directory is in this cluster's work/ folder but whose worker is gone (a worker killed
# with SIGKILL leaves its executors to exit on their own once they notice; these are the ones that have not yet).
orphan_executors() {
  local dir pid cwd workers
  workers=$(live_daemons | awk '{print $2}')
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    cwd=$(readlink "$dir/cwd" 2>/dev/null) || continue
    case "$cwd" in "$SPARK_HOME/work/"*) ;; *) continue ;; esac
    is_spark "$pid" CoarseGrainedExecutorBackend || continue
    echo "$workers" | grep -qx "$(ps -o ppid= -p "$pid" | tr -d ' ')" && continue
    echo "$pid"
  done
}

executors() { # worker-name worker-pid app-id executor-id pid rss-MB: every executor JVM of this cluster
  local name pid kid rss
  while read -r name pid; do
    [ "$name" = master ] && continue
    for kid in $(executors_of "$pid"); do
      rss=$(ps -o rss= -p "$kid" 2>/dev/null) || continue
      echo "$name $pid $(arg_of "$kid" --app-id) $(arg_of "$kid" --executor-id) $kid $((rss / 1024))"
    done
  done < <(live_daemons)
  for kid in $(orphan_executors); do
    rss=$(ps -o rss= -p "$kid" 2>/dev/null) || continue
    echo "- $(ps -o ppid= -p "$kid" | tr -d ' ') $(arg_of "$kid" --app-id) $(arg_of "$kid" --executor-id) $kid $((rss / 1024))"
  done
}

wait_for() { # log pattern pid: bounded wait for a line in a daemon's log
  local log=$1 pattern=$2 pid=$3 deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    grep -q "$pattern" "$log" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "cluster.sh: process $pid exited before logging '$pattern'; last lines of $log:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "cluster.sh: no '$pattern' in $log after ${TIMEOUT}s; last lines:" >&2
  tail -n 30 "$log" >&2
  return 1
}

start() {
  local workers=${1:-2} i pid
  [[ $workers =~ ^[1-9][0-9]*$ ]] || die "start: the number of workers must be a positive integer, not '$workers'"
  need_build
  if [ -n "$(live_daemons)" ]; then
    die "a cluster is already running from $RUN (see 'scripts/cluster.sh status'); stop it first"
  fi
  for i in "$PORT" "$UI_PORT"; do
    port_busy "$i" && die "port 127.0.0.1:$i is in use; pick others with SEQPACK_CLUSTER_PORT / SEQPACK_CLUSTER_UI_PORT"
  done
  mkdir -p "$RUN"
  rm -f "$PIDS" "$RUN"/*.log
  mkdir -p "$SPARK_HOME/jars" "$SPARK_HOME/conf" "$SPARK_HOME/work"
  # Logging of the daemons, the driver and the executors (all have $SPARK_HOME/conf on their classpath).
  # The deploy package stays at INFO: start waits for the master's and the workers' readiness lines.
  cat > "$SPARK_HOME/conf/log4j2.properties" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.deploy.name = org.apache.spark.deploy
logger.deploy.level = info
logger.seqpack.name = io.seqpack
logger.seqpack.level = info
EOF
  if [ "${SEQPACK_CLUSTER_LOG_TASKS:-0}" = 1 ]; then
    cat >> "$SPARK_HOME/conf/log4j2.properties" <<'EOF'
logger.tasksets.name = org.apache.spark.scheduler.TaskSetManager
logger.tasksets.level = info
logger.taskscheduler.name = org.apache.spark.scheduler.TaskSchedulerImpl
logger.taskscheduler.level = info
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = info
EOF
  fi

  local opens cp t0=$SECONDS
  opens=$(java_opens)
  cp="$SPARK_HOME/conf:$(cat "$CP_FILE")"
  # nohup: the daemons outlive this script and the terminal. spark.port.maxRetries=0 makes the master fail
  # instead of quietly moving to the next port; its REST submission server (a fixed port 6066) is not needed.
  # shellcheck disable=SC2086
  nohup java -Xmx"${SEQPACK_DAEMON_MEMORY:-256m}" $opens -Dspark.port.maxRetries=0 \
    -Dspark.master.rest.enabled=false -cp "$cp" \
    org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" --webui-port "$UI_PORT" \
    > "$RUN/master.log" 2>&1 < /dev/null &
  pid=$!
  echo "master $pid" >> "$PIDS"
  wait_for "$RUN/master.log" "I have been elected leader" "$pid" || { stop >&2; return 1; }

  for ((i = 1; i <= workers; i++)); do
    # shellcheck disable=SC2086
    nohup java -Xmx"${SEQPACK_DAEMON_MEMORY:-256m}" $opens -cp "$cp" \
      org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory "${SEQPACK_WORKER_MEMORY:-1g}" \
      --webui-port 0 --work-dir "$SPARK_HOME/work" "$MASTER_URL" \
      > "$RUN/worker$i.log" 2>&1 < /dev/null &
    echo "worker$i $!" >> "$PIDS"
  done
  local name
  while read -r name pid; do
    [ "$name" = master ] && continue
    wait_for "$RUN/$name.log" "Successfully registered with master" "$pid" || { stop >&2; return 1; }
  done < "$PIDS"
  echo "cluster up in $((SECONDS - t0))s: $MASTER_URL with $workers worker(s)," \
    "web UI http://127.0.0.1:$UI_PORT, logs in $RUN"
}

kill_bounded() { # pid class-name: SIGTERM, then SIGKILL after 15 s
  local pid=$1 class=$2 i
  is_spark "$pid" "$class" || return 0
  kill "$pid" 2>/dev/null
  for ((i = 0; i < 75; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  is_spark "$pid" "$class" || return 0
  echo "cluster.sh: pid $pid ignored SIGTERM for 15s; sending SIGKILL" >&2
  kill -9 "$pid" 2>/dev/null
}

stop() {
  if [ ! -s "$PIDS" ]; then
    echo "no cluster recorded in $RUN"
    return 0
  fi
  local name pid kid executors="" stopped=""
  # Workers first, each with the executors it started (a worker kills them on SIGTERM; any it leaves
  # behind are killed here), then the master.
  while read -r name pid; do
    [ "$name" = master ] && continue
    executors+=" $(executors_of "$pid" | tr '\n' ' ')"
    if is_spark "$pid" org.apache.spark.deploy.worker.Worker; then
      kill_bounded "$pid" org.apache.spark.deploy.worker.Worker
      stopped+=" $name($pid)"
    fi
  done < "$PIDS"
  # Executors whose worker was killed: no longer any worker's children, found by their working directory.
  executors+=" $(orphan_executors | tr '\n' ' ')"
  for kid in $executors; do
    is_spark "$kid" CoarseGrainedExecutorBackend && kill_bounded "$kid" CoarseGrainedExecutorBackend
  done
  while read -r name pid; do
    if [ "$name" = master ] && is_spark "$pid" org.apache.spark.deploy.master.Master; then
      kill_bounded "$pid" org.apache.spark.deploy.master.Master
      stopped+=" $name($pid)"
    fi
  done < "$PIDS"
  rm -f "$PIDS"
  executors=$(echo $executors)  # trim
  echo "stopped:${stopped:- nothing was running}${executors:+ (and executors $executors)}"
}

status() {
  if [ -z "$(live_daemons)" ]; then
    echo "no cluster running from $RUN"
    return 1
  fi
  echo "$MASTER_URL (web UI http://127.0.0.1:$UI_PORT), run directory $RUN"
  local name pid kid
  while read -r name pid; do
    if is_spark "$pid" 'org\.apache\.spark\.deploy\.'; then
      echo "  $name pid=$pid rss=$(($(ps -o rss= -p "$pid") / 1024))MB"
      for kid in $(executors_of "$pid"); do
        echo "    executor pid=$kid rss=$(($(ps -o rss= -p "$kid") / 1024))MB"
      done
    else
      echo "  $name pid=$pid not running (see $RUN/$name.log)"
    fi
  done < "$PIDS"
  for kid in $(orphan_executors); do
    echo "  executor pid=$kid rss=$(($(ps -o rss= -p "$kid") / 1024))MB, its worker is gone"
  done
}

submit() {
  need_build
  local jar=${SEQPACK_JAR:-}
  if [ -z "$jar" ]; then
    jar=$(ls -t "$ROOT"/target/seqpack-*-all.jar 2>/dev/null | head -n 1)
    [ -n "$jar" ] || die "no target/seqpack-*-all.jar: run 'mvn -B package -DskipTests' first"
  fi
  [ -f "$jar" ] || die "application jar $jar does not exist"
  port_busy "$PORT" || die "no master listening on 127.0.0.1:$PORT: run 'scripts/cluster.sh start' first"
  local opens cp
  opens=$(java_opens)
  cp=$(spark_classpath)
  # Client deploy mode: this JVM is the driver. Executors get the Spark jars on their classpath (what a
  # distribution's jars/ would give them) and fetch the application jar from the driver.
  # shellcheck disable=SC2086
  exec java -Xmx"${SEQPACK_DRIVER_MEMORY:-1g}" $opens -cp "$SPARK_HOME/conf:$cp" \
    org.apache.spark.deploy.SparkSubmit \
    --master "$MASTER_URL" --deploy-mode client --class "${SEQPACK_MAIN_CLASS:-io.seqpack.cli.Main}" \
    --conf spark.driver.host=127.0.0.1 \
    --conf spark.executor.memory="${SEQPACK_EXECUTOR_MEMORY:-768m}" \
    --conf spark.executor.extraClassPath="$cp" \
    --conf spark.executorEnv.OMP_NUM_THREADS=1 \
    --conf spark.executorEnv.OPENBLAS_NUM_THREADS=1 \
    ${SEQPACK_SUBMIT_ARGS:-} \
    "$jar" "$@"
}

command=${1:-}
shift || true
case "$command" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  executors) executors ;;
  submit) submit "$@" ;;
  *)
    echo "usage: scripts/cluster.sh start [N_WORKERS] | stop | status | executors | submit [seqpack args...]" >&2
    exit 2
    ;;
esac
