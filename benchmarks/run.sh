#!/usr/bin/env bash
# The benchmark suite in one command: how long does a model take to get into memory, from the
# local disk and from network storage, and how close is that to what the machine can do?
#
#   benchmarks/run.sh [--quick] [--all] [--sizes "1 2 4 8"] [--rounds N] [--skip PART,...] [--deadline HH:MM] ...
#
# The defaults fit a quiet 2-core machine in about 16 minutes (1, 2, 4 and 8 GiB models).
#
#   --quick      small models (0.25, 0.5, 1 GiB), fewer iterations: a smoke run of every part
#   --all        also run benchmarks/loader-bench.sh and benchmarks/s3-bench.sh (their own sections)
#   --sizes      model sizes in GiB for the local-disk and file: parts (default "1 2 4 8")
#   --file-sizes model sizes for the file: cold start (default: --sizes)
#   --s3-sizes   model sizes for S3 on loopback (default: those of --sizes up to 2)
#   --shaped-sizes, --shaped-rounds   the same for the shaped link (default "1", 2 rounds)
#   --rounds N   rounds of each cold-start measurement (default 2)
#   --fio-rounds N  fio rounds before JMH (default 1; one more runs after JMH)
#   --jmh ARGS   JMH iteration options (default "-wi 0 -i 3")
#   --s3-peers   S3 peers among aws tm-crt tm-java (default "aws tm-crt"; s3-bench.sh runs them all)
#   --skip LIST  parts to leave out: scaling, fio, file, s3, shaped
#   --no-build   use benchmarks/target/benchmarks.jar as it is
#   --deadline T start no new cold-start measurement after T (UTC, HH:MM); the report says so
#
# Parts, all in this run, all against the same files:
#   scaling  JMH ScalingBenchmark: each read strategy of the loader and Chronicle Bytes, cold and
#            warm, one model per size; fio (O_DIRECT; buffered cold; buffered warm) as the ceiling
#   file     cold start from a file: source (a directory, as on a network mount): ModelCache
#            download then load, against cp + load; load from the cache; streaming read
#   s3       the same from S3Proxy on loopback, against aws s3 sync + load and
#            S3TransferManager + load (needs the s3 backend in the build)
#   shaped   the same behind a 1 gbit link with 20 ms per GET (root only: veth pair + tbf)
# and writes the "Scaling" and "Cold start" sections and the machine header of
# benchmarks/RESULTS.md, and the chart benchmarks/throughput.svg.
#
# Data (generated models, the S3 store, cache roots) lives outside the repository, in
# $MODELCACHE_BENCH_DIR (default /work/bench-data), and is reused when present. Raw outputs go to
# benchmarks/work/suite. Needs JDK 25, python3, fio (installed with apt-get when root).
set -euo pipefail
SCRIPT=$(readlink -f "$0")
cd "$(dirname "$0")/.."
ROOT=$(pwd)
COMMAND_LINE="benchmarks/run.sh"
for a in "$@"; do [[ "$a" == *" "* ]] && COMMAND_LINE+=" \"$a\"" || COMMAND_LINE+=" $a"; done

QUICK=0 ALL=0 BUILD=1 SKIP="" SIZES="" S3_SIZES="" ROUNDS="" DEADLINE="" FILE_SIZES="" SHAPED_SIZES=""
SHAPED_ROUNDS="" FIO_ROUNDS="" JMH_ITER="" S3_PEERS="aws tm-crt"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --all) ALL=1 ;;
    --no-build) BUILD=0 ;;
    --sizes) SIZES=$2; shift ;;
    --s3-sizes) S3_SIZES=$2; shift ;;
    --file-sizes) FILE_SIZES=$2; shift ;;
    --shaped-sizes) SHAPED_SIZES=$2; shift ;;
    --shaped-rounds) SHAPED_ROUNDS=$2; shift ;;
    --fio-rounds) FIO_ROUNDS=$2; shift ;;
    --jmh) JMH_ITER=$2; shift ;;
    --s3-peers) S3_PEERS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --skip) SKIP=$2; shift ;;
    --deadline) DEADLINE=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$SCRIPT" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  SIZES=${SIZES:-"0.25 0.5 1"}; S3_SIZES=${S3_SIZES:-"0.25 0.5"}; SHAPED_SIZES=${SHAPED_SIZES:-"0.25"}
  ROUNDS=${ROUNDS:-2}; SHAPED_ROUNDS=${SHAPED_ROUNDS:-1}; FIO_ROUNDS=${FIO_ROUNDS:-1}; JMH_ITER=${JMH_ITER:-"-wi 1 -i 2"}
else
  SIZES=${SIZES:-"1 2 4 8"}; S3_SIZES=${S3_SIZES:-$(echo "$SIZES" | tr ' ' '\n' | awk '$1 <= 2' | xargs)}
  SHAPED_SIZES=${SHAPED_SIZES:-"1"}
  # Single-shot loads of whole models are seconds long and I/O-bound: no warm-up iteration.
  ROUNDS=${ROUNDS:-2}; SHAPED_ROUNDS=${SHAPED_ROUNDS:-2}; FIO_ROUNDS=${FIO_ROUNDS:-1}; JMH_ITER=${JMH_ITER:-"-wi 0 -i 3"}
fi
FILE_SIZES=${FILE_SIZES:-$SIZES}
skipped() { [[ ",$SKIP," == *",$1,"* ]]; }
DEADLINE_EPOCH=""; [ -n "$DEADLINE" ] && DEADLINE_EPOCH=$(date -u -d "$DEADLINE" +%s)
DEADLINE_NOTED=0
past_deadline() {
  [ -n "$DEADLINE_EPOCH" ] && [ "$(date +%s)" -ge "$DEADLINE_EPOCH" ] || return 1
  if [ "$DEADLINE_NOTED" = 0 ]; then
    DEADLINE_NOTED=1; note "stopped at the --deadline $DEADLINE UTC: later rounds and sizes were not measured"
  fi
  return 0
}

DATA=${MODELCACHE_BENCH_DIR:-/work/bench-data}/suite
OUT=$ROOT/benchmarks/work/suite
mkdir -p "$DATA" "$OUT"
rm -rf "${OUT:?}"/*
RUNS=$OUT/runs.tsv      # scenario size tool round bytes wall_s fetch_s load_s rss_kib
NOTES=$OUT/notes.txt    # one line per skipped or degraded step, copied into RESULTS.md
: > "$RUNS"; : > "$NOTES"
log() { echo "[run.sh $(date -u +%H:%M:%S)] $*" >&2; }
note() { log "$*"; echo "$*" >> "$NOTES"; }
START_EPOCH=$(date +%s)

if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA=$JAVA_HOME/bin/java
PY=$(command -v python3)
AWS=/usr/bin/aws
IS_ROOT=0; [ "$(id -u)" = 0 ] && IS_ROOT=1

# --- tools -------------------------------------------------------------------------------------
apt_install() { # $@ = packages; installs when root, else says what is missing
  if [ "$IS_ROOT" = 1 ]; then
    log "installing $*"
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@") >/dev/null 2>&1 || true
  fi
}
command -v fio >/dev/null || apt_install fio
[ -x "$AWS" ] || apt_install awscli
[ -x /usr/bin/time ] || apt_install time
command -v fio >/dev/null || note "fio missing (apt-get install fio as root): no fio ceiling in this run"
[ -x "$AWS" ] || note "aws CLI missing (apt-get install awscli as root): no aws s3 sync peer in this run"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

# --- build -------------------------------------------------------------------------------------
JAR=${SUITE_JAR:-$ROOT/benchmarks/target/benchmarks.jar}   # SUITE_JAR: a prebuilt jar (implies --no-build)
[ -n "${SUITE_JAR:-}" ] && BUILD=0
if [ "$BUILD" = 1 ]; then
  log "building benchmarks/target/benchmarks.jar"
  ./mvnw -B -q -pl benchmarks -am package -DskipTests
fi
JCMD=("$JAVA" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$JAR")
J() { "${JCMD[@]}" "$@"; }
has_class() { unzip -l "$JAR" "$1" >/dev/null 2>&1; }
HAS_S3=0; has_class 'dev/modelcache/s3/S3StorageBackend.class' && HAS_S3=1
HAS_TM=0; has_class 'dev/modelcache/benchmarks/s3/S3Download.class' && HAS_TM=1

# --- the machine -------------------------------------------------------------------------------
{
  echo "cpu: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores"
  echo "memory: $(free -g | awk '/Mem:/{print $2}') GiB"
  dev=$(findmnt -no SOURCE -T "$DATA")
  echo "disk: $(findmnt -no FSTYPE -T "$DATA") on $dev, $(lsblk -ndo SIZE "$dev" 2>/dev/null | xargs), $(df -h --output=avail "$DATA" | tail -1 | xargs) free, rotational=$(cat /sys/block/"$(basename "$dev")"/queue/rotational 2>/dev/null)"
  echo "kernel: $(uname -r)"
  echo "jdk: $("$JAVA" -version 2>&1 | head -1)"
  echo "fio: $(fio --version 2>/dev/null || echo none); aws: $("$AWS" --version 2>/dev/null | cut -d' ' -f1 || echo none)"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"
echo "$COMMAND_LINE" > "$OUT/command.txt"
echo "sizes=$SIZES; file: sizes=$FILE_SIZES; s3 sizes=$S3_SIZES; shaped sizes=$SHAPED_SIZES; rounds=$ROUNDS; shaped rounds=$SHAPED_ROUNDS; fio rounds=$FIO_ROUNDS (+1 after JMH); s3 peers=$S3_PEERS; jmh $JMH_ITER" > "$OUT/settings.txt"

# --- data --------------------------------------------------------------------------------------
label() { awk -v g="$1" 'BEGIN { if (g < 1) printf "%dm", g * 1024; else printf "%dg", g }'; }
mib() { awk -v g="$1" 'BEGIN { printf "%d", g * 1024 }'; }
model_dir() { echo "$DATA/model-$(label "$1")"; }
ALL_SIZES=$(echo "$SIZES $FILE_SIZES $S3_SIZES $SHAPED_SIZES" | tr ' ' '\n' | sort -gu | xargs)
for g in $ALL_SIZES; do
  m=$(mib "$g")
  J dev.modelcache.benchmarks.loader.GenerateModel "$(model_dir "$g")" "$m" $(( (m + 2047) / 2048 )) | tail -1
done
for g in $ALL_SIZES; do
  echo -e "$(label "$g")\t$(find "$(model_dir "$g")" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')"
done > "$OUT/sizes.tsv"
drop() { J dev.modelcache.benchmarks.coldstart.Residency drop "$@" >/dev/null; }
warm() { J dev.modelcache.benchmarks.coldstart.Residency warm "$@" >/dev/null; }
prefetch() { J dev.modelcache.benchmarks.coldstart.Residency prefetch "$@" | cut -d' ' -f2; }
bytes_of() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# Runs one timed command; appends a row to runs.tsv. $1 scenario, $2 size, $3 tool, $4 round, rest = command.
# A ColdStart command prints COLDSTART fields; anything else is timed from outside (wall clock).
timed() {
  local scenario=$1 size=$2 tool=$3 round=$4; shift 4
  local t="$OUT/time.txt" lg="$OUT/cmd.log"
  if ! "$TIME" -f '%e %M' -o "$t" "$@" > "$lg" 2>&1; then
    log "$scenario/$size/$tool failed:"; tail -5 "$lg" >&2
    echo -e "$scenario\t$size\t$tool\t$round\tFAILED\t0\t0\t0\t0" >> "$RUNS"
    return 1
  fi
  local wall rss bytes fetch load
  read -r wall rss < <(tail -1 "$t")
  if grep -q '^COLDSTART' "$lg"; then
    bytes=$(grep '^COLDSTART' "$lg" | sed 's/.*bytes=\([0-9]*\).*/\1/')
    fetch=$(grep '^COLDSTART' "$lg" | sed 's/.*fetch_s=\([0-9.]*\).*/\1/')
    load=$(grep '^COLDSTART' "$lg" | sed 's/.*load_s=\([0-9.]*\).*/\1/')
  else
    bytes=$LAST_BYTES; fetch=$wall; load=0
  fi
  echo -e "$scenario\t$size\t$tool\t$round\t$bytes\t$wall\t$fetch\t$load\t$rss" >> "$RUNS"
  log "$scenario $size $tool round $round: wall ${wall}s fetch ${fetch}s load ${load}s, peak RSS $((rss / 1024)) MiB"
}

# Peer download followed by our loader on the result: one row "tool" with fetch = the peer's
# wall time and load = our load time (the load step is the same code as in our pipeline).
peer_then_load() { # $1 scenario $2 size $3 tool $4 round $5 dest, rest = peer command
  local scenario=$1 size=$2 tool=$3 round=$4 dest=$5; shift 5
  rm -rf "$dest"; mkdir -p "$dest"
  if ! timed "$scenario" "$size" "$tool-fetch" "$round" "$@"; then return 0; fi
  local fetch_row; fetch_row=$(tail -1 "$RUNS"); sed -i '$ d' "$RUNS"
  local model_sub; model_sub=$(dirname "$(find "$dest" -name 'model.safetensors.index.json' | head -1)")
  if timed "$scenario" "$size" "$tool" "$round" "${JCMD[@]}" dev.modelcache.benchmarks.coldstart.ColdStart load "$model_sub"; then
    local load_row; load_row=$(tail -1 "$RUNS"); sed -i '$ d' "$RUNS"
    local pw pr lw ll lr
    pw=$(cut -f6 <<< "$fetch_row"); pr=$(cut -f9 <<< "$fetch_row")
    ll=$(cut -f8 <<< "$load_row"); lr=$(cut -f9 <<< "$load_row"); lb=$(cut -f5 <<< "$load_row")
    echo -e "$scenario\t$size\t$tool\t$round\t$lb\t$pw\t$pw\t$ll\t$(( pr > lr ? pr : lr ))" >> "$RUNS"
  fi
  rm -rf "$dest"
}

# The report is rewritten after every part, so a run stopped early still leaves its figures.
report() {
  "$PY" benchmarks/suite-report.py "$OUT" "$ROOT/benchmarks/RESULTS.md" "$ROOT/benchmarks/throughput.svg" >&2 || log "report failed"
}

# --- scaling: fio and JMH on the local disk ------------------------------------------------------
run_fio() { # $1 = round label
  for g in $SIZES; do
    local dir; dir=$(model_dir "$g")
    for mode in direct buffered-cold buffered-warm; do
      # A page-aligned buffer: fio's default alignment makes buffered copies 5x slower here.
      local args=(--rw=read --bs=4M --iomem_align=4096 --output-format=json)
      case $mode in
        direct) args+=(--direct=1 --ioengine=libaio --iodepth=16); drop "$dir" ;;
        buffered-cold) args+=(--direct=0 --ioengine=psync --invalidate=1); drop "$dir" ;;
        buffered-warm) args+=(--direct=0 --ioengine=psync --invalidate=0); warm "$dir" ;;
      esac
      local f i=0
      for f in "$dir"/*.safetensors; do
        i=$((i + 1))
        fio --name=ceiling --filename="$f" "${args[@]}" > "$OUT/fio-$(label "$g")-$mode-$1-$i.json"
      done
    done
  done
}
if ! skipped scaling; then
  if command -v fio >/dev/null && ! skipped fio; then
    log "fio on the same files, before JMH"
    for r in $(seq 1 "$FIO_ROUNDS"); do run_fio "before$r"; done
  fi

  # Another JMH run on this machine would disturb both: wait for its lock a while, then go on.
  LOCK_ARG=""
  jmh_lock_free() { # JMH takes a POSIX (fcntl) lock, which flock(1) does not see
    "$PY" -c "import fcntl; f = open('/tmp/jmh.lock', 'a'); fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)" 2>/dev/null
  }
  LOCK_WAIT=${SUITE_JMH_LOCK_WAIT:-300}
  for _ in $(seq 1 $((LOCK_WAIT / 5))); do jmh_lock_free && break; sleep 5; done
  if ! jmh_lock_free; then
    note "another JMH run held /tmp/jmh.lock for ${LOCK_WAIT} s; ScalingBenchmark ran beside it (figures disturbed)"
    LOCK_ARG="-Djmh.ignoreLock=true"
  fi
  # One JMH run per size, smallest first, each reported as soon as it ends. JMH forks inherit the
  # -D of this JVM; the fork's own flags come from the benchmark's @Fork.
  for g in $SIZES; do
    log "JMH ScalingBenchmark on $(model_dir "$g")"
    "$JAVA" $LOCK_ARG -Dsuite.side="$OUT/side.csv" -jar "$JAR" 'coldstart.ScalingBenchmark' -p model="$(model_dir "$g")" \
        -f 1 $JMH_ITER -rf json -rff "$OUT/scaling-$(label "$g").json" \
        | grep -E '^(# Parameters|Iteration|<failure>)|Exception' || true
    report
  done
  if command -v fio >/dev/null && ! skipped fio; then
    log "fio on the same files, after JMH"
    run_fio after
  fi
fi

skipped scaling || report

# --- S3: loopback and shaped link ------------------------------------------------------------------
S3PROXY_JAR=$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar
STORE=$DATA/s3store
BUCKET=suite
PORT=${SUITE_S3_PORT:-18191}
SERVER_PID="" NETNS_MADE=0
export AWS_ACCESS_KEY_ID=suitekey AWS_SECRET_ACCESS_KEY=suitesecret AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "$NETNS_MADE" = 1 ]; then ip link del veth-suite 2>/dev/null || true; ip netns del suitenet 2>/dev/null || true; fi
  rm -rf "$DATA/peer"
}
trap cleanup EXIT

# The store holds hard links to the generated models (no second copy on disk) with the MD5 that
# S3Proxy's filesystem store serves as the ETag, in the extended attribute it reads it from.
prepare_store() {
  for g in $ALL_SIZES; do
    local src; src=$(model_dir "$g"); local dst=$STORE/$BUCKET/$(basename "$src")
    mkdir -p "$dst"
    for f in "$src"/*; do ln -f "$f" "$dst/$(basename "$f")"; done
  done
  "$PY" - "$STORE/$BUCKET" <<'EOF'
import hashlib, os, sys
for d, _, files in os.walk(sys.argv[1]):
    for n in files:
        p = os.path.join(d, n)
        st = os.stat(p)
        tag = "%d-%d" % (st.st_size, int(st.st_mtime))
        try:
            if os.getxattr(p, "user.suite.md5-of") == tag.encode():
                continue
        except OSError:
            pass
        h = hashlib.md5()
        with open(p, "rb") as f:
            for b in iter(lambda: f.read(8 << 20), b""):
                h.update(b)
        os.setxattr(p, "user.user.content-md5", h.digest())
        os.setxattr(p, "user.suite.md5-of", tag.encode())
EOF
}
start_server() { # $1 bind address, $2 extra properties, $3 optional netns prefix
  local props=$OUT/s3proxy-$1.properties
  cat > "$props" <<EOF
s3proxy.endpoint=http://$1:$PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$STORE
$2
EOF
  ${3:-} "$JAVA" -Xmx512m -jar "$S3PROXY_JAR" --properties "$props" > "$OUT/s3proxy-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    grep -q "Started .*ServerConnector" "$OUT/s3proxy-$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "S3Proxy did not start; see $OUT/s3proxy-$1.log" >&2; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

s3_round() { # $1 scenario, $2 endpoint, $3 sizes, $4 round, $5 tools
  local scenario=$1 endpoint=$2 sizes=$3 r=$4 tools=$5
  for g in $sizes; do
    past_deadline && return 0
    local src; src=$(model_dir "$g"); local s; s=$(label "$g"); local uri="s3://$BUCKET/$(basename "$src")/"
    LAST_BYTES=$(bytes_of "$src")
    for tool in $tools; do
      # The server's disk is not what is measured: its files are read into the page cache before
      # every tool (recorded, not enforced: under memory pressure a few pages may stay out).
      echo -e "$scenario\t$s\t$tool\t$r\t$(prefetch "$src")" >> "$OUT/store-residency.tsv"
      case $tool in
        ours)
          rm -rf "$CACHE"
          timed "$scenario" "$s" download-load "$r" "${JCMD[@]}" dev.modelcache.benchmarks.coldstart.ColdStart download-load "$CACHE" "$uri" --endpoint "$endpoint" || true
          drop "$CACHE/entries"
          timed "$scenario" "$s" cached-load "$r" "${JCMD[@]}" dev.modelcache.benchmarks.coldstart.ColdStart cached-load "$CACHE" "$uri" --endpoint "$endpoint" || true
          rm -rf "$CACHE" ;;
        stream)
          timed "$scenario" "$s" stream "$r" "${JCMD[@]}" dev.modelcache.benchmarks.coldstart.ColdStart stream "$uri" --endpoint "$endpoint" || true ;;
        aws)
          peer_then_load "$scenario" "$s" aws-s3-sync "$r" "$DATA/peer" "$AWS" --endpoint-url "$endpoint" s3 sync --only-show-errors "$uri" "$DATA/peer/" ;;
        tm-crt|tm-java)
          peer_then_load "$scenario" "$s" "$tool" "$r" "$DATA/peer" "${JCMD[@]}" dev.modelcache.benchmarks.s3.S3Download "$tool" "$endpoint" "$uri" "$DATA/peer" ;;
      esac
    done
  done
}

# --- cold start from a file: source --------------------------------------------------------------
CACHE=$DATA/cache
file_round() { # $1 round
  local r=$1 g src s
  for g in $FILE_SIZES; do
    past_deadline && return 0
    src=$(model_dir "$g"); s=$(label "$g"); LAST_BYTES=$(bytes_of "$src")
    rm -rf "$CACHE"; drop "$src"
    timed file "$s" download-load "$r" "${JCMD[@]}" dev.modelcache.benchmarks.coldstart.ColdStart download-load "$CACHE" "file://$src/" || true
    drop "$CACHE/entries"
    timed file "$s" cached-load "$r" "${JCMD[@]}" dev.modelcache.benchmarks.coldstart.ColdStart cached-load "$CACHE" "file://$src/" || true
    rm -rf "$CACHE"; drop "$src"
    timed file "$s" stream "$r" "${JCMD[@]}" dev.modelcache.benchmarks.coldstart.ColdStart stream "file://$src/" || true
    drop "$src"
    peer_then_load file "$s" cp "$r" "$DATA/peer" bash -c "cp -r '$src' '$DATA/peer/' && sync '$DATA/peer/$(basename "$src")'/*"
  done
}

S3_OK=0 SHAPED_OK=0
if ! skipped s3 || ! skipped shaped; then
  if [ "$HAS_S3" = 0 ]; then
    note "S3 parts skipped: the s3 backend (cache-s3) is not in this build"
  elif [ ! -f "$S3PROXY_JAR" ] && ! ./mvnw -B -q dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies -Dtransitive=false >/dev/null; then
    note "S3 parts skipped: cannot fetch the S3Proxy standalone jar"
  else
    log "preparing the S3 store (hard links and ETags)"
    prepare_store
    S3_TOOLS="ours stream"
    for peer in $S3_PEERS; do
      case $peer in
        aws) [ -x "$AWS" ] && S3_TOOLS="$S3_TOOLS aws" ;;
        tm-*) if [ "$HAS_TM" = 1 ]; then S3_TOOLS="$S3_TOOLS $peer"; else note "$peer peer skipped: S3Download is not in this build"; fi ;;
      esac
    done
    skipped s3 || S3_OK=1
    if ! skipped shaped; then
      if [ "$IS_ROOT" = 0 ] || ! command -v tc >/dev/null || ! command -v ip >/dev/null; then
        note "shaped-link run skipped: needs root, ip and tc"
      elif ! ip netns add suitenet 2>/dev/null; then
        note "shaped-link run skipped: cannot create a network namespace here"
      else
        NETNS_MADE=1 SHAPED_OK=1
        ip link add veth-suite type veth peer name veth-suite-n
        ip link set veth-suite-n netns suitenet
        ip addr add 10.201.0.1/24 dev veth-suite && ip link set veth-suite up
        ip netns exec suitenet ip addr add 10.201.0.2/24 dev veth-suite-n
        ip netns exec suitenet ip link set veth-suite-n up && ip netns exec suitenet ip link set lo up
        ip netns exec suitenet tc qdisc add dev veth-suite-n root tbf rate 1gbit burst 256kb latency 20ms
        SHAPED_TOOLS="ours stream"; [ -x "$AWS" ] && SHAPED_TOOLS="$SHAPED_TOOLS aws"
      fi
    fi
  fi
fi

# Rounds are the outer loop, so that every scenario has a first round before any has a second
# (a run cut short by --deadline still covers them all).
for r in $(seq 1 "$ROUNDS"); do
  past_deadline && break
  skipped file || file_round "$r"
  if [ "$S3_OK" = 1 ] && ! past_deadline; then
    start_server 127.0.0.1 ""
    s3_round s3 "http://127.0.0.1:$PORT" "$S3_SIZES" "$r" "$S3_TOOLS"
    stop_server
  fi
  if [ "$SHAPED_OK" = 1 ] && [ "$r" -le "$SHAPED_ROUNDS" ] && ! past_deadline; then
    start_server 10.201.0.2 "s3proxy.latency-blobstore.get.latency=20" "ip netns exec suitenet"
    s3_round shaped "http://10.201.0.2:$PORT" "$SHAPED_SIZES" "$r" "$SHAPED_TOOLS"
    stop_server
  fi
  report
done
if [ "$NETNS_MADE" = 1 ]; then ip link del veth-suite; ip netns del suitenet; NETNS_MADE=0; fi

# --- the other sections ----------------------------------------------------------------------------
if [ "$ALL" = 1 ]; then
  for script in loader-bench.sh s3-bench.sh; do
    if [ -x "benchmarks/$script" ]; then log "running benchmarks/$script"; "benchmarks/$script" || note "benchmarks/$script failed"
    else note "benchmarks/$script not in this checkout: its section is not refreshed"; fi
  done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); suite wall time: $(( ($(date +%s) - START_EPOCH) / 60 )) min" >> "$OUT/machine.txt"
report
log "wrote benchmarks/RESULTS.md (Scaling, Cold start) and benchmarks/throughput.svg"
