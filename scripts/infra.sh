#!/usr/bin/env bash
# Real local infrastructure for dev/CI: PostgreSQL+pgvector, Redis, Kafka (KRaft), Jaeger v2.
#
#   scripts/infra.sh up       install what is missing, start everything, wait until ready
#   scripts/infra.sh down     stop everything (data is kept)
#   scripts/infra.sh env      print `export NAME=value` lines: eval "$(scripts/infra.sh env)"
#   scripts/infra.sh status   show what is running
#   scripts/infra.sh stop|start COMPONENT...   one of postgres, redis, kafka, jaeger (failure tests)
#   scripts/infra.sh kafka-class CLASS [ARGS...]   run a Kafka tool class with the broker's classpath
#                              e.g. kafka-class org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:59092 --list
#   scripts/infra.sh jaeger-selftest   send one span over OTLP/HTTP and read it back from the query API
#
# Everything (binaries, data, logs, pid files) lives under $JAMEY_INFRA_DIR (default: <repo>/.infra).
# Only package registries are reachable from our machines, so every component comes from one:
#   postgres+pgvector  <- PyPI wheel `pgserver` (ships server binaries with pgvector built in)
#   redis, kcat        <- Debian packages
#   kafka              <- Maven Central jars, started with plain `java`
#   jaeger             <- Go module proxy: built from source with the local Go (>= 1.24.6); the
#                         binary is cached in $JAMEY_INFRA_CACHE (default ~/.cache/jamey-infra)
#                         and shared by every clone on the machine
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA="${JAMEY_INFRA_DIR:-$REPO/.infra}"
LOGS="$INFRA/logs"

PG_PORT="${JAMEY_PG_PORT:-55432}"
REDIS_PORT="${JAMEY_REDIS_PORT:-56379}"
KAFKA_PORT="${JAMEY_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${JAMEY_KAFKA_CONTROLLER_PORT:-59093}"
JAEGER_OTLP_GRPC_PORT="${JAMEY_JAEGER_OTLP_GRPC_PORT:-54317}"
JAEGER_OTLP_HTTP_PORT="${JAMEY_JAEGER_OTLP_HTTP_PORT:-54318}"
JAEGER_QUERY_PORT="${JAMEY_JAEGER_QUERY_PORT:-56686}"            # HTTP: UI placeholder, /api/*, /api/v3/*
JAEGER_QUERY_GRPC_PORT="${JAMEY_JAEGER_QUERY_GRPC_PORT:-56685}"  # the query gRPC API (always served)
TIMEOUT="${JAMEY_INFRA_TIMEOUT:-120}"   # seconds to wait for each server to become ready

PGSERVER_VERSION="0.1.4"
KAFKA_VERSION="4.1.1"
LOG4J_VERSION="2.24.3"                  # same log4j2 version kafka 4.1.1 itself depends on
MVN_DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# Jaeger is pinned to one commit. Its v2.x tags can't be Go versions (the module path has no /v2),
# and this machine's Go module proxy refuses pseudo-versions of arbitrary commits, so the pin is
# the v1.x tag that Jaeger puts on the same release commit: v1.76.0 = v2.13.0 = commit
# 63b27e1810a7 (2025-12-03), the newest Jaeger version the proxy serves. cmd/jaeger at that commit
# is the v2 binary. Changing the pin changes the binary's file name, so the next `up` rebuilds.
JAEGER_VERSION="v1.76.0"
JAEGER_RELEASE="v2.13.0"                # what `jaeger version` reports
JAEGER_COMMIT="63b27e1810a710ac54dc4522da0538e540bdc545"
JAEGER_COMMIT_DATE="2025-12-03T16:07:08Z"
JAEGER_MIN_GO="1.24.6"                  # the go line of Jaeger's go.mod at that commit

PG_USER_NAME="jamey-infra"              # postgres refuses to run as root
PG_ROLE="jamey"; PG_PASSWORD="jamey"
PG_DATABASES=(jamey_memory jamey_consciousness jamey_soul jamey_audit jamey_telemetry jamey_gateway)

VENV="$INFRA/venv"
PG_DIR="$INFRA/pg"; PG_DATA="$PG_DIR/data"; PG_SOCK="$PG_DIR/run"; PG_LOG="$LOGS/postgres.log"
REDIS_DIR="$INFRA/redis"; REDIS_PID="$REDIS_DIR/redis.pid"; REDIS_LOG="$LOGS/redis.log"
KAFKA_DIR="$INFRA/kafka"; KAFKA_LIBS="$KAFKA_DIR/libs"; KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PID="$KAFKA_DIR/kafka.pid"; KAFKA_OUT="$LOGS/kafka.out"; KAFKA_LOGDIR="$LOGS/kafka"
JAEGER_DIR="$INFRA/jaeger"; JAEGER_PID="$JAEGER_DIR/jaeger.pid"; JAEGER_CONFIG="$JAEGER_DIR/config.yaml"
JAEGER_LOG="$LOGS/jaeger.log"; JAEGER_BUILD_LOG="$LOGS/jaeger-build.log"
INFRA_CACHE="${JAMEY_INFRA_CACHE:-${XDG_CACHE_HOME:-${HOME:-$INFRA}/.cache}/jamey-infra}"
JAEGER_BIN="$INFRA_CACHE/jaeger-$JAEGER_VERSION"
# Schemathesis (PyPI) fuzzes the gateway's OpenAPI document in tests/e2e/src/fuzz.test.ts. A tool,
# not a server: installed into its own venv in the cache, so its dependencies never meet pgserver's.
SCHEMATHESIS_VERSION="4.32.5"
SCHEMATHESIS_VENV="$INFRA_CACHE/schemathesis-$SCHEMATHESIS_VERSION"

# Messages go to fd 8 = the script's original stderr, so they still show when a check
# that fails is running with its own output silenced (see wait_until).
exec 8>&2
log()  { printf '[infra] %s\n' "$*" >&8; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&8; }
die()  { printf '[infra] ERROR: %s\n' "$*" >&8; exit 1; }
# die, showing the end of a log file first so CI output says *why*.
die_with_log() {
  local file="$1"; shift
  if [[ -f "$file" ]]; then printf '[infra] ---- last lines of %s ----\n' "$file" >&8; tail -n 40 "$file" >&8 || true; fi
  die "$*"
}

is_root() { [[ $EUID -eq 0 ]]; }
pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { if [[ -f "$1" ]]; then tr -dc '0-9' <"$1"; fi; }
# true if something accepts TCP connections on 127.0.0.1:$1 (bash /dev/tcp, no extra tools).
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# ---------------------------------------------------------------- apt helpers
APT_UPDATED=0
apt_update_once() {
  [[ $APT_UPDATED -eq 1 ]] && return 0
  log "apt-get update"
  apt-get update -q >>"$LOGS/apt.log" 2>&1 || warn "apt-get update failed (see $LOGS/apt.log)"
  APT_UPDATED=1
}
# apt_install PKG...: install packages; runs `apt-get update` only when the package lists
# don't know a package yet or an install fails (stale lists), never more than once per run.
apt_install() {
  is_root || die "need root to apt-get install $* (install it yourself or rerun as root)"
  local p policy
  for p in "$@"; do
    # (captured first: `apt-cache | grep -q` can die of SIGPIPE and, with pipefail, "fail")
    policy="$(apt-cache policy "$p" 2>/dev/null || true)"
    [[ "$policy" == *"Candidate: "[!\(]* ]] || apt_update_once
  done
  log "apt-get install $*"
  local cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends
             -o DPkg::Lock::Timeout=300 "$@")
  if ! "${cmd[@]}" >>"$LOGS/apt.log" 2>&1; then
    [[ $APT_UPDATED -eq 1 ]] && return 1
    apt_update_once
    "${cmd[@]}" >>"$LOGS/apt.log" 2>&1 || return 1
  fi
}

# ---------------------------------------------------------------- common setup
prepare_dirs() {
  # 755: the unprivileged postgres user must be able to traverse into .infra.
  mkdir -p "$INFRA" "$LOGS" "$PG_DIR" "$REDIS_DIR/data" "$KAFKA_DIR" "$KAFKA_LOGDIR" "$JAEGER_DIR"
  chmod 755 "$INFRA" "$LOGS" "$PG_DIR"
  # A stray .gitignore inside the state dir keeps it out of git even if the repo's
  # .gitignore line is missing (e.g. JAMEY_INFRA_DIR pointing somewhere inside the repo).
  [[ -f "$INFRA/.gitignore" ]] || echo '*' >"$INFRA/.gitignore"
}

# Serialize concurrent up/down calls (several engineers / CI jobs may share the machine).
# Daemons are started with `8>&- 9>&-`: they must not inherit this lock (it would then be
# held forever) nor fd 8 (a caller piping our output, e.g. `| tee`, would never see EOF).
take_lock() {
  exec 9>"$INFRA/.lock"
  flock -w 600 9 || die "could not get $INFRA/.lock within 600s (another infra.sh running?)"
}

# ---------------------------------------------------------------- postgres
pg_home() {
  # pgserver puts its postgres install under site-packages/pgserver/pginstall/{bin,lib,share}.
  local d
  for d in "$VENV"/lib/python3*/site-packages/pgserver/pginstall; do
    [[ -x "$d/bin/postgres" ]] && { echo "$d"; return 0; }
  done
  return 1
}

# Run a command as the postgres OS user (or as ourselves when not root).
as_pg() {
  if is_root; then
    (cd "$PG_DIR" && runuser -u "$PG_USER_NAME" -- "$@")
  else
    (cd "$PG_DIR" && "$@")
  fi
}

install_postgres() {
  if pg_home >/dev/null && [[ -f "$VENV/.pgserver-$PGSERVER_VERSION" ]]; then return 0; fi
  log "installing pgserver==$PGSERVER_VERSION into $VENV"
  command -v python3 >/dev/null || apt_install python3
  if ! python3 -m venv "$VENV" >>"$LOGS/pip.log" 2>&1; then
    apt_install python3-venv || die "python3 -m venv unavailable and python3-venv install failed"
    rm -rf "$VENV"; python3 -m venv "$VENV" >>"$LOGS/pip.log" 2>&1 || die_with_log "$LOGS/pip.log" "venv creation failed"
  fi
  # --no-deps: we only use the bundled binaries, not pgserver's Python API (psutil etc.).
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "pgserver==$PGSERVER_VERSION" \
    >>"$LOGS/pip.log" 2>&1 || die_with_log "$LOGS/pip.log" "pip install pgserver failed"
  pg_home >/dev/null || die "pgserver installed but pginstall/bin/postgres not found under $VENV"
  touch "$VENV/.pgserver-$PGSERVER_VERSION"
}

install_schemathesis() {
  # The marker is written last, so an interrupted install is redone from scratch.
  [[ -f "$SCHEMATHESIS_VENV/.installed" ]] && return 0
  log "installing schemathesis==$SCHEMATHESIS_VERSION into $SCHEMATHESIS_VENV"
  mkdir -p "$INFRA_CACHE"; rm -rf "$SCHEMATHESIS_VENV"
  python3 -m venv "$SCHEMATHESIS_VENV" >>"$LOGS/pip.log" 2>&1 || die_with_log "$LOGS/pip.log" "venv creation for schemathesis failed"
  "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
    >>"$LOGS/pip.log" 2>&1 || die_with_log "$LOGS/pip.log" "pip install schemathesis failed"
  "$SCHEMATHESIS_VENV/bin/st" --version >/dev/null 2>&1 || die "schemathesis installed but $SCHEMATHESIS_VENV/bin/st does not run"
  touch "$SCHEMATHESIS_VENV/.installed"
}

ensure_pg_user() {
  mkdir -p "$PG_DATA" "$PG_SOCK"
  touch "$PG_LOG"
  chmod 700 "$PG_DATA"
  is_root || return 0   # not root: postgres simply runs as the current user
  if ! id -u "$PG_USER_NAME" >/dev/null 2>&1; then
    log "creating system user $PG_USER_NAME"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER_NAME"
  fi
  local home; home="$(pg_home)"
  # The venv was created by root; under a restrictive umask its files may not be readable by
  # the postgres user. Only our own venv gets chmod'ed; nothing outside .infra is touched.
  if ! runuser -u "$PG_USER_NAME" -- test -x "$home/bin/postgres" -a -r "$home/share/postgresql/postgres.bki"; then
    log "making $VENV readable for $PG_USER_NAME"
    chmod -R go+rX "$VENV"
    runuser -u "$PG_USER_NAME" -- test -x "$home/bin/postgres" ||
      die "$PG_USER_NAME cannot reach $home/bin/postgres: a parent directory of $INFRA is not traversable (o+x); set JAMEY_INFRA_DIR elsewhere"
  fi
  chown "$PG_USER_NAME:" "$PG_DATA" "$PG_SOCK" "$PG_LOG"
}

pg_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && as_pg "$(pg_home)/bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

# psql over TCP with the app's own credentials: exactly the path the services use.
pg_psql() {
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" "$(pg_home)/bin/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" "$@"
}

start_postgres() {
  local home; home="$(pg_home)"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    log "initdb $PG_DATA"
    local pwfile="$PG_DIR/.pwfile"
    printf '%s\n' "$PG_PASSWORD" >"$pwfile"; chmod 644 "$pwfile"   # read once by initdb, then removed
    # Bootstrap superuser is the app role itself; sockets trust, TCP needs the password.
    as_pg "$home/bin/initdb" -D "$PG_DATA" -U "$PG_ROLE" --pwfile="$pwfile" -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
      { rm -f "$pwfile"; die_with_log "$PG_LOG" "initdb failed"; }
    rm -f "$pwfile"
    echo "include_if_exists = 'jamey-infra.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  # Rewritten on every up so port overrides apply; loaded last via include_if_exists.
  as_pg tee "$PG_DATA/jamey-infra.conf" >/dev/null <<EOF
# managed by scripts/infra.sh -- rewritten on every 'up'
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 300
EOF
  if pg_running; then
    log "postgres already running"
  else
    log "starting postgres on 127.0.0.1:$PG_PORT"
    # setsid: detach from our process group so killing the caller's job doesn't kill postgres.
    as_pg setsid "$home/bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" start >/dev/null 2>&1 8>&- 9>&- ||
      die_with_log "$PG_LOG" "postgres failed to start"
  fi
  wait_until "$TIMEOUT" "$PG_LOG" "postgres accepting queries on 127.0.0.1:$PG_PORT" \
    pg_psql -d postgres -c 'select 1'
}

setup_databases() {
  local db existing
  existing="$(pg_psql -d postgres -tA -c 'select datname from pg_database')"
  for db in "${PG_DATABASES[@]}"; do
    if ! grep -qx "$db" <<<"$existing"; then
      log "creating database $db"
      pg_psql -d postgres -c "CREATE DATABASE $db OWNER $PG_ROLE"
    fi
    # Also proves pgvector is loadable in every database.
    pg_psql -d "$db" -tA -c 'CREATE EXTENSION IF NOT EXISTS vector' -c "SELECT '[1,2,3]'::vector" >/dev/null ||
      die_with_log "$PG_LOG" "pgvector check failed in $db"
  done
}

stop_postgres() {
  local home; home="$(pg_home 2>/dev/null)" || return 0
  if pg_running; then
    log "stopping postgres"
    as_pg "$home/bin/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null || die_with_log "$PG_LOG" "pg_ctl stop failed"
  fi
}

# ---------------------------------------------------------------- redis
install_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server || die_with_log "$LOGS/apt.log" "apt-get install redis-server failed"
  fi
  # kcat is only a convenience/test tool (and our fast Kafka readiness probe): don't fail without it.
  command -v kcat >/dev/null || apt_install kcat || warn "kcat install failed; continuing without it"
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_running() { pid_alive "$(read_pid "$REDIS_PID")"; }

start_redis() {
  # Rewritten every up so port overrides apply. Paths are quoted for redis' config parser.
  cat >"$REDIS_DIR/redis.conf" <<EOF
# managed by scripts/infra.sh -- rewritten on every 'up'
bind 127.0.0.1
port $REDIS_PORT
daemonize yes
pidfile "$REDIS_PID"
logfile "$REDIS_LOG"
dir "$REDIS_DIR/data"
save 3600 1 300 100 60 10000
EOF
  if redis_running; then
    log "redis already running"
  else
    log "starting redis on 127.0.0.1:$REDIS_PORT"
    # daemonize yes: redis forks and setsid()s itself, no systemd involved.
    redis-server "$REDIS_DIR/redis.conf" 8>&- 9>&- || die_with_log "$REDIS_LOG" "redis-server failed to start"
  fi
  redis_ping() { [[ "$(redis_cli ping 2>/dev/null)" == PONG ]]; }
  wait_until 30 "$REDIS_LOG" "redis answering PING on 127.0.0.1:$REDIS_PORT" redis_ping
}

stop_redis() {
  local pid; pid="$(read_pid "$REDIS_PID")"
  pid_alive "$pid" || return 0
  log "stopping redis"
  redis_cli shutdown >/dev/null 2>&1 || true   # SHUTDOWN saves the RDB snapshot first
  wait_for_exit "$pid" 30 || { warn "redis did not exit, sending SIGTERM"; kill -TERM "$pid" 2>/dev/null || true; wait_for_exit "$pid" 10; }
}

# ---------------------------------------------------------------- kafka
# Same JVM flags as kafka's bin/kafka-run-class.sh, with a small heap for dev machines.
KAFKA_JVM=(-Xms256m -Xmx512m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
           -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true
           -Dkafka.logs.dir="$KAFKA_LOGDIR" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties"
           -cp "$KAFKA_LIBS/*")
kafka_java() { java "${KAFKA_JVM[@]}" "$@"; }

install_kafka() {
  local major
  major="$(java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}' || true)"
  if ! command -v java >/dev/null || [[ "${major:-0}" -lt 17 ]]; then
    apt_install openjdk-17-jre-headless || die_with_log "$LOGS/apt.log" "Kafka 4.x needs Java 17+; install failed"
  fi
  # Stamp = exact artifact list: skip Maven entirely when it matches (warm 'up' is fast).
  local stamp="kafka_2.13:$KAFKA_VERSION kafka-tools:$KAFKA_VERSION log4j-slf4j-impl:$LOG4J_VERSION"
  [[ -f "$KAFKA_LIBS/.stamp" && "$(cat "$KAFKA_LIBS/.stamp")" == "$stamp" ]] && return 0
  command -v mvn >/dev/null || apt_install maven || die_with_log "$LOGS/apt.log" "apt-get install maven failed"
  log "resolving Kafka $KAFKA_VERSION jars from Maven Central (cached in ~/.m2)"
  # There is no kafka server distribution on Maven Central, but the jars are there:
  #   kafka_2.13        kafka.Kafka (server main) and kafka.tools.StorageTool (storage format)
  #   kafka-tools       console producer/consumer, TopicCommand, ... (for tests and debugging)
  #   log4j-slf4j-impl  kafka logs via slf4j 1.7 -> log4j2; without a binding it logs nothing
  cat >"$KAFKA_DIR/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <!-- managed by scripts/infra.sh: only used to resolve Kafka's runtime classpath -->
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.jamey.infra</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$KAFKA_LIBS.tmp"
  mvn -B -q -f "$KAFKA_DIR/pom.xml" "$MVN_DEP_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >>"$LOGS/maven.log" 2>&1 ||
    die_with_log "$LOGS/maven.log" "maven could not resolve Kafka jars"
  echo "$stamp" >"$KAFKA_LIBS.tmp/.stamp"
  rm -rf "$KAFKA_LIBS"; mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"   # swap in only a complete set
}

write_kafka_config() {
  # Static single-voter KRaft quorum (controller.quorum.voters): survives port overrides
  # between runs, unlike the dynamic quorum that `format --standalone` would create.
  cat >"$KAFKA_DIR/server.properties" <<EOF
# managed by scripts/infra.sh -- rewritten on every 'up'
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
  # Broker logs to a size-capped file; stdout (kafka.out) only gets JVM-level noise.
  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $KAFKA_LOGDIR/server.log
appender.file.filePattern = $KAFKA_LOGDIR/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
EOF
}

kafka_running() {
  local pid; pid="$(read_pid "$KAFKA_PID")"
  pid_alive "$pid" && grep -q 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null
}

# Broker is ready when it answers a metadata request listing itself.
kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  if command -v kcat >/dev/null; then
    kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 5 2>/dev/null | grep -q '1 brokers:'
  else
    timeout 30 java "${KAFKA_JVM[@]}" org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
      >/dev/null 2>&1
  fi
}

start_kafka() {   # starts the broker but does not wait (kafka is the slowest; we wait at the end)
  write_kafka_config
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    local id
    [[ -s "$KAFKA_DIR/cluster.id" ]] || kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_OUT" | tail -n1 >"$KAFKA_DIR/cluster.id"
    id="$(cat "$KAFKA_DIR/cluster.id")"
    [[ -n "$id" ]] || die_with_log "$KAFKA_OUT" "could not generate a Kafka cluster id"
    log "formatting Kafka storage (cluster id $id)"
    kafka_java kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" >>"$KAFKA_OUT" 2>&1 ||
      die_with_log "$KAFKA_OUT" "kafka storage format failed"
  fi
  if kafka_running; then
    log "kafka already running"
    return 0
  fi
  log "starting kafka on 127.0.0.1:$KAFKA_PORT"
  # setsid + nohup: the broker must outlive this script and the caller's process group.
  # (We are not a process-group leader here, so setsid execs in place and $! is java's pid.)
  setsid nohup java "${KAFKA_JVM[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" >>"$KAFKA_OUT" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$KAFKA_PID"
}

wait_kafka() {
  local pid; pid="$(read_pid "$KAFKA_PID")"
  kafka_alive_and_ready() {
    pid_alive "$pid" || die_with_log "$KAFKA_LOGDIR/server.log" "kafka process exited (also see $KAFKA_OUT)"
    kafka_ready
  }
  wait_until "$TIMEOUT" "$KAFKA_LOGDIR/server.log" "kafka serving metadata on 127.0.0.1:$KAFKA_PORT" kafka_alive_and_ready
}

stop_kafka() {
  kafka_running || { rm -f "$KAFKA_PID"; return 0; }
  local pid; pid="$(read_pid "$KAFKA_PID")"
  log "stopping kafka (SIGTERM, controlled shutdown)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for_exit "$pid" 90; then
    warn "kafka did not exit within 90s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$pid" 10 || true
  fi
  rm -f "$KAFKA_PID"
}

# ---------------------------------------------------------------- jaeger
find_go() {
  local go
  go="$(command -v go || true)"
  [[ -n "$go" ]] || { [[ -x /usr/local/go/bin/go ]] && go=/usr/local/go/bin/go; }
  [[ -n "$go" ]] || return 1
  echo "$go"
}

# Build cmd/jaeger at the pin into $JAEGER_BIN. Run it in a subshell: it holds a lock on the
# shared cache (fd 7) so that two clones never build the same binary at once.
# `go install github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION` is not possible: Jaeger's
# go.mod has a replace directive, which `go install pkg@version` refuses. So we build in a
# throwaway module that requires Jaeger, copies its replace directives, and starts from Jaeger's
# own go.sum: the dependency versions and their checksums are exactly the ones Jaeger pinned.
jaeger_build() {
  [[ -x "$JAEGER_BIN" ]] && return 0
  local go have work dir
  go="$(find_go)" || die "Go >= $JAEGER_MIN_GO is needed to build Jaeger, and no 'go' was found"
  have="$("$go" env GOVERSION)"; have="${have#go}"
  [[ "$(printf '%s\n' "$JAEGER_MIN_GO" "$have" | sort -V | head -n1)" == "$JAEGER_MIN_GO" ]] ||
    die "Jaeger $JAEGER_RELEASE needs Go >= $JAEGER_MIN_GO; $go is $have"
  mkdir -p "$INFRA_CACHE"
  exec 7>"$INFRA_CACHE/.jaeger-build.lock"
  flock -w 1800 7 || die "could not get $INFRA_CACHE/.jaeger-build.lock within 1800s"
  [[ -x "$JAEGER_BIN" ]] && return 0   # another infra.sh built it while we waited
  log "building jaeger $JAEGER_RELEASE ($JAEGER_VERSION, commit ${JAEGER_COMMIT:0:12}) with $go ($have)"
  work="$(mktemp -d "$INFRA_CACHE/jaeger-build.XXXXXX")"
  # The local Go only (no toolchain download); no go.work or GOFLAGS of the caller leaks in.
  export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on GOFLAGS="-modcacherw -buildvcs=false"
  local v=github.com/jaegertracing/jaeger/internal/version
  # (every step checks itself: `set -e` does not apply inside a `( ... ) ||`)
  (
    cd "$work" || exit 1
    printf 'module local.jamey/jaeger-build\n\ngo %s\n' "$JAEGER_MIN_GO" >go.mod
    dir="$("$go" mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -f "$dir/go.mod" && -f "$dir/go.sum" ]] || { echo "go mod download of jaeger gave no module directory"; exit 1; }
    awk '/^replace \(/ {b=1; print; next} b {print; if ($0 ~ /^\)/) b=0; next} /^replace / {print}' "$dir/go.mod" >>go.mod
    cp "$dir/go.sum" go.sum && chmod u+w go.sum || exit 1
    "$go" get "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" || exit 1
    "$go" build -trimpath -o "$JAEGER_BIN.tmp" \
      -ldflags "-X $v.commitSHA=$JAEGER_COMMIT -X $v.latestVersion=$JAEGER_RELEASE -X $v.date=$JAEGER_COMMIT_DATE" \
      github.com/jaegertracing/jaeger/cmd/jaeger
  ) || { rm -rf "$work" "$JAEGER_BIN.tmp"; die "go build of jaeger failed"; }
  mv -f "$JAEGER_BIN.tmp" "$JAEGER_BIN"
  rm -rf "$work"
}

# The build is slow when cold (minutes), so `up` starts it in the background first thing and
# collects it with jaeger_build_wait. Output goes to $JAEGER_BUILD_LOG; the child gets neither
# our lock (fd 9) nor the caller's stderr (fd 8 points into the log instead).
JAEGER_BUILD_PID=""
jaeger_build_start() {
  # curl: our readiness probe and selftest client for jaeger's HTTP ports.
  command -v curl >/dev/null || apt_install curl || die_with_log "$LOGS/apt.log" "apt-get install curl failed"
  [[ -x "$JAEGER_BIN" ]] && return 0
  log "building jaeger $JAEGER_RELEASE in the background into $JAEGER_BIN (a cold build takes ~5 min; log: $JAEGER_BUILD_LOG)"
  JAEGER_BUILD_T0=$SECONDS
  ( jaeger_build ) >>"$JAEGER_BUILD_LOG" 2>&1 </dev/null 8>&1 9>&- &
  JAEGER_BUILD_PID=$!
}
jaeger_build_wait() {
  [[ -n "$JAEGER_BUILD_PID" ]] || return 0
  wait "$JAEGER_BUILD_PID" || die_with_log "$JAEGER_BUILD_LOG" "building jaeger failed"
  JAEGER_BUILD_PID=""
  [[ -x "$JAEGER_BIN" ]] || die_with_log "$JAEGER_BUILD_LOG" "jaeger build finished but $JAEGER_BIN is missing"
  log "jaeger built in $((SECONDS - JAEGER_BUILD_T0))s"
}

write_jaeger_config() {
  # Only what we use is configured, so jaeger opens exactly these four ports, all on 127.0.0.1:
  # no metrics endpoint (the collector's default :8888), health check, zipkin, jaeger thrift/grpc
  # receivers, remote sampling, pprof or zpages. Traces are kept in memory (lost on restart).
  cat >"$JAEGER_CONFIG" <<EOF
# managed by scripts/infra.sh -- rewritten on every 'up'
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]   # no batch processor: spans are queryable at once
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false   # jaeger would otherwise trace its own queries
    http:
      endpoint: 127.0.0.1:$JAEGER_QUERY_PORT
    grpc:
      endpoint: 127.0.0.1:$JAEGER_QUERY_GRPC_PORT
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$JAEGER_OTLP_GRPC_PORT
      http:
        endpoint: 127.0.0.1:$JAEGER_OTLP_HTTP_PORT
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF
}

jaeger_running() {
  local pid; pid="$(read_pid "$JAEGER_PID")"
  pid_alive "$pid" && grep -qF "$JAEGER_CONFIG" "/proc/$pid/cmdline" 2>/dev/null
}

# Ready when the query API answers and the OTLP/HTTP receiver accepts an (empty) export.
jaeger_ready() {
  curl -sf -m 2 -o /dev/null "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" &&
    curl -sf -m 2 -o /dev/null -X POST -H 'content-type: application/json' -d '{}' \
      "http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT/v1/traces" &&
    port_open "$JAEGER_OTLP_GRPC_PORT"
}

start_jaeger() {   # starts jaeger but does not wait (see wait_jaeger)
  write_jaeger_config
  if jaeger_running; then
    log "jaeger already running"
    return 0
  fi
  [[ -x "$JAEGER_BIN" ]] || die "jaeger binary $JAEGER_BIN is missing"
  log "starting jaeger: OTLP 127.0.0.1:$JAEGER_OTLP_GRPC_PORT (gRPC) and :$JAEGER_OTLP_HTTP_PORT (HTTP), query 127.0.0.1:$JAEGER_QUERY_PORT"
  setsid nohup "$JAEGER_BIN" --config "file:$JAEGER_CONFIG" >>"$JAEGER_LOG" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$JAEGER_PID"
}

wait_jaeger() {
  local pid; pid="$(read_pid "$JAEGER_PID")"
  jaeger_alive_and_ready() {
    pid_alive "$pid" || die_with_log "$JAEGER_LOG" "jaeger process exited"
    jaeger_ready
  }
  wait_until "$TIMEOUT" "$JAEGER_LOG" "jaeger query API on 127.0.0.1:$JAEGER_QUERY_PORT and OTLP on :$JAEGER_OTLP_HTTP_PORT" \
    jaeger_alive_and_ready
}

stop_jaeger() {
  jaeger_running || { rm -f "$JAEGER_PID"; return 0; }
  local pid; pid="$(read_pid "$JAEGER_PID")"
  log "stopping jaeger"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for_exit "$pid" 30; then
    warn "jaeger did not exit within 30s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$pid" 10 || true
  fi
  rm -f "$JAEGER_PID"
}

# One span in over OTLP/HTTP JSON, then read back by trace id (v1 and v3 API) and by service.
cmd_jaeger_selftest() {
  local trace span now q="http://127.0.0.1:$JAEGER_QUERY_PORT" svc="jamey-infra-selftest"
  trace="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  span="$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  now="$(date +%s%N)"
  local body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"'$svc'"}}]},
    "scopeSpans":[{"scope":{"name":"infra.sh"},"spans":[{"traceId":"'$trace'","spanId":"'$span'","name":"selftest",
    "kind":2,"startTimeUnixNano":"'$((now - 1000000))'","endTimeUnixNano":"'$now'"}]}]}]}'
  curl -sSf -m 5 -o /dev/null -X POST -H 'content-type: application/json' -d "$body" \
    "http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT/v1/traces" || die "OTLP/HTTP export to 127.0.0.1:$JAEGER_OTLP_HTTP_PORT failed"
  local url
  for url in "$q/api/traces/$trace" "$q/api/v3/traces/$trace" "$q/api/traces?service=$svc&limit=20"; do
    # A few tries: the span is stored asynchronously after the export call returns.
    local i ok=0
    for ((i = 0; i < 20; i++)); do
      if curl -sf -m 5 "$url" 2>/dev/null | grep -q "$trace"; then ok=1; break; fi
      sleep 0.25
    done
    [[ $ok -eq 1 ]] || die "trace $trace not returned by $url"
    log "ok: $url"
  done
  log "jaeger selftest passed (trace $trace, service $svc)"
}

# ---------------------------------------------------------------- waiting
# wait_until SECONDS LOGFILE DESCRIPTION CMD...: poll CMD every 0.5s; fail with log tail on timeout.
wait_until() {
  local secs="$1" logfile="$2" what="$3"; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die_with_log "$logfile" "timed out after ${secs}s waiting for: $what"
    sleep 0.5
  done
  log "ready: $what"
}

wait_for_exit() {   # wait_for_exit PID SECONDS
  local i
  for ((i = 0; i < $2 * 5; i++)); do pid_alive "$1" || return 0; sleep 0.2; done
  return 1
}

# ---------------------------------------------------------------- commands
print_env() {
  local svc upper
  for svc in memory consciousness soul audit telemetry gateway; do
    upper="$(tr '[:lower:]' '[:upper:]' <<<"$svc")"
    echo "export ${upper}_DATABASE_URL=postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/jamey_$svc"
  done
  echo "export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT"
  echo "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
  echo "export JAMEY_JAEGER_QUERY_URL=http://127.0.0.1:$JAEGER_QUERY_PORT"
  echo "export JAMEY_SCHEMATHESIS=$SCHEMATHESIS_VENV/bin/st"
  echo "export JAMEY_INFRA=real"
}

# Before starting anything: a port of a server we are about to start must be free,
# otherwise we'd "wait for readiness" against somebody else's server.
# Our ports sit in Linux's ephemeral range (32768-60999), so an outgoing connection may be given
# one of them just before a server binds it. As root, reserve them from ephemeral use first.
reserve_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports current ports
  is_root && [[ -w "$file" ]] || return 0
  current="$(cat "$file")"
  ports="$PG_PORT,$REDIS_PORT,$KAFKA_PORT,$KAFKA_CONTROLLER_PORT,$JAEGER_OTLP_GRPC_PORT,$JAEGER_OTLP_HTTP_PORT,$JAEGER_QUERY_PORT,$JAEGER_QUERY_GRPC_PORT"
  echo "${current:+$current,}$ports" >"$file" 2>/dev/null || warn "could not reserve ports $ports from ephemeral use"
}

preflight_ports() {
  reserve_ports
  local busy=()
  pg_running || ! port_open "$PG_PORT" || busy+=("$PG_PORT (JAMEY_PG_PORT)")
  redis_running || ! port_open "$REDIS_PORT" || busy+=("$REDIS_PORT (JAMEY_REDIS_PORT)")
  if ! kafka_running; then
    port_open "$KAFKA_PORT" && busy+=("$KAFKA_PORT (JAMEY_KAFKA_PORT)")
    port_open "$KAFKA_CONTROLLER_PORT" && busy+=("$KAFKA_CONTROLLER_PORT (JAMEY_KAFKA_CONTROLLER_PORT)")
  fi
  preflight_jaeger_ports
  [[ ${#busy[@]} -eq 0 ]] || die "port(s) in use by something else: ${busy[*]}"
}
preflight_jaeger_ports() {   # appends to the caller's busy array
  jaeger_running && return 0
  local p
  for p in "$JAEGER_OTLP_GRPC_PORT JAMEY_JAEGER_OTLP_GRPC_PORT" "$JAEGER_OTLP_HTTP_PORT JAMEY_JAEGER_OTLP_HTTP_PORT" \
           "$JAEGER_QUERY_PORT JAMEY_JAEGER_QUERY_PORT" "$JAEGER_QUERY_GRPC_PORT JAMEY_JAEGER_QUERY_GRPC_PORT"; do
    port_open "${p% *}" && busy+=("${p% *} (${p#* })")
  done
  return 0
}

cmd_up() {
  local t0=$SECONDS
  prepare_dirs; take_lock
  jaeger_build_start                # cold Go build takes minutes: runs while the rest installs
  install_postgres; install_redis; install_kafka; install_schemathesis
  ensure_pg_user
  preflight_ports
  start_kafka                       # slowest to boot: launch first, wait for it last
  start_postgres; setup_databases
  start_redis
  jaeger_build_wait; start_jaeger
  wait_kafka
  wait_jaeger
  log "all up in $((SECONDS - t0))s (logs: $LOGS)"
  print_env
}

# Stop or start single components, for failure tests: `infra.sh stop kafka`, `infra.sh start kafka`.
cmd_stop() {
  [[ $# -ge 1 ]] || die "usage: $0 stop {postgres|redis|kafka|jaeger}..."
  prepare_dirs; take_lock
  for component in "$@"; do
    case "$component" in
      postgres) stop_postgres ;;
      redis) stop_redis ;;
      kafka) stop_kafka ;;
      jaeger) stop_jaeger ;;
      *) die "unknown component: $component (postgres, redis, kafka or jaeger)" ;;
    esac
  done
}
cmd_start() {
  [[ $# -ge 1 ]] || die "usage: $0 start {postgres|redis|kafka|jaeger}..."
  prepare_dirs; take_lock
  for component in "$@"; do
    case "$component" in
      postgres) start_postgres ;;
      redis) start_redis ;;
      kafka) start_kafka; wait_kafka ;;
      jaeger)
        jaeger_build_start; jaeger_build_wait
        local busy=(); preflight_jaeger_ports
        [[ ${#busy[@]} -eq 0 ]] || die "port(s) in use by something else: ${busy[*]}"
        start_jaeger; wait_jaeger ;;
      *) die "unknown component: $component (postgres, redis, kafka or jaeger)" ;;
    esac
  done
}

cmd_down() {
  [[ -d "$INFRA" ]] || { log "nothing to stop ($INFRA does not exist)"; return 0; }
  take_lock
  stop_jaeger; stop_kafka; stop_redis; stop_postgres
  log "all stopped (data kept in $INFRA)"
}

cmd_status() {
  local rc=0 pid
  if [[ -f "$PG_DATA/PG_VERSION" ]] && pg_home >/dev/null && pg_running; then
    pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    if pg_psql -d postgres -tA -c 'select 1' >/dev/null 2>&1; then
      echo "postgres: running (pid $pid) 127.0.0.1:$PG_PORT, accepting queries"
    else
      echo "postgres: running (pid $pid) but NOT answering on 127.0.0.1:$PG_PORT"; rc=1
    fi
  else echo "postgres: stopped"; rc=1; fi
  if redis_running; then
    echo "redis:    running (pid $(read_pid "$REDIS_PID")) 127.0.0.1:$REDIS_PORT, ping: $(redis_cli ping 2>&1 || true)"
  else echo "redis:    stopped"; rc=1; fi
  if kafka_running; then
    if kafka_ready; then echo "kafka:    running (pid $(read_pid "$KAFKA_PID")) 127.0.0.1:$KAFKA_PORT, serving metadata"
    else echo "kafka:    running (pid $(read_pid "$KAFKA_PID")) but not ready on 127.0.0.1:$KAFKA_PORT"; rc=1; fi
  else echo "kafka:    stopped"; rc=1; fi
  if jaeger_running; then
    if jaeger_ready; then echo "jaeger:   running (pid $(read_pid "$JAEGER_PID")) query/UI http://127.0.0.1:$JAEGER_QUERY_PORT, OTLP 127.0.0.1:$JAEGER_OTLP_GRPC_PORT (gRPC) :$JAEGER_OTLP_HTTP_PORT (HTTP)"
    else echo "jaeger:   running (pid $(read_pid "$JAEGER_PID")) but not ready on 127.0.0.1:$JAEGER_QUERY_PORT / :$JAEGER_OTLP_HTTP_PORT"; rc=1; fi
  else echo "jaeger:   stopped"; rc=1; fi
  return $rc
}

case "${1:-}" in
  up)     cmd_up ;;
  down)   cmd_down ;;
  env)    print_env ;;
  status) cmd_status ;;
  stop)   shift; cmd_stop "$@" ;;
  start)  shift; cmd_start "$@" ;;
  kafka-class)
    shift; [[ $# -ge 1 ]] || die "usage: $0 kafka-class CLASS [ARGS...]"
    [[ -f "$KAFKA_LIBS/.stamp" ]] || die "kafka jars not installed yet: run '$0 up' first"
    kafka_java "$@" ;;
  jaeger-selftest) cmd_jaeger_selftest ;;
  *) echo "usage: $0 {up|down|env|status|stop COMPONENT...|start COMPONENT...|kafka-class CLASS [ARGS...]|jaeger-selftest}" >&2; exit 2 ;;
esac
