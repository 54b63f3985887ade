# Sourced (not run) by benchmarks/bench, from the repository root. One place for what every
# scenario needs: a JDK 25 and the benchmarks jar, S3Proxy (start, stop, upload), a network
# namespace behind a shaped link, and timed measurements recorded as JSON lines.
#
# The caller sets SCENARIO, WORK (scratch space), RESULTS (the .jsonl file) and RUN_ID.

S3PROXY_JAR="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
SERVER_PID=""
NETNS=mcbench
NETNS_MADE=0
SHAPED_HOST=10.200.0.1
SHAPED_ADDR=10.200.0.2
LINK_RATE_BPS=1000000000   # the tbf rate below, in bits per second
GET_LATENCY_MS=20
TIME=/usr/bin/time

log() { echo "[bench $SCENARIO $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "bench $SCENARIO: $*" >&2; exit 1; }

# --- tools --------------------------------------------------------------------------------------

# Sets JAVA_HOME to a JDK 25 (the caller's, else Temurin's) and JAVA to its java.
bench_java() {
  if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
  fi
  JAVA="$JAVA_HOME/bin/java"
  [ -x "$JAVA" ] || die "no JDK 25: set JAVA_HOME"
}

# Installs Debian packages once per run when root; returns non-zero when they are still missing.
APT_TRIED=""
apt_install() {
  [ "$(id -u)" = 0 ] || return 1
  case " $APT_TRIED " in *" $* "*) return 1 ;; esac
  APT_TRIED="$APT_TRIED $*"
  log "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" > "$WORK/apt-$1.log" 2>&1
}

# Makes sure command $1 exists, installing package $2 (default: $1) once; non-zero if it cannot.
need_tool() {
  command -v "$1" >/dev/null && return 0
  apt_install "${2:-$1}" && command -v "$1" >/dev/null
}

# Builds the benchmarks jar (unless NO_BUILD=1) and copies it to $1, so that rebuilding the tree
# meanwhile is harmless; sets JAR. $2: the source tree (default: this one).
bench_jar() {
  local dest=$1 tree=${2:-.}
  if [ "${NO_BUILD:-0}" != 1 ] || [ ! -f "$tree/benchmarks/target/benchmarks.jar" ]; then
    log "building $tree/benchmarks/target/benchmarks.jar"
    (cd "$tree" && ./mvnw -B -q ${MAVEN_FLAGS:-} -pl benchmarks -am package -DskipTests) >&2 \
      || die "the build of $tree failed"
  fi
  mkdir -p "$(dirname "$dest")"
  cp "$tree/benchmarks/target/benchmarks.jar" "$dest"
  JAR=$dest
}

# Writes a generated safetensors model of $2 MiB in $3 shards into $1 (kept when already there).
make_model() {
  "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$JAR" dev.modelcache.benchmarks.loader.GenerateModel \
    "$1" "$2" "$3" >&2
}

bytes_of() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# Drops (or loads) a directory's pages from the page cache, checked with mincore.
drop_pages() { "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$JAR" dev.modelcache.benchmarks.coldstart.Residency drop "$@" >/dev/null; }
warm_pages() { "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$JAR" dev.modelcache.benchmarks.coldstart.Residency warm "$@" >/dev/null; }

# --- recording ----------------------------------------------------------------------------------

# measure SIZE TOOL BYTES CMD...: runs CMD under /usr/bin/time -v and appends one JSON line to
# $RESULTS: wall seconds, user+sys CPU seconds, peak RSS, the command. Extra fields for the line
# come from the environment variable EXTRA (a JSON object's members, e.g. '"link_bps": 1e9').
# Returns the command's status; a failed command is recorded with "status": "failed".
measure() {
  local size=$1 tool=$2 nbytes=$3; shift 3
  local timing="$WORK/time.txt" out="$WORK/cmd.log" status=ok rc=0
  "$TIME" -v -o "$timing" "$@" > "$out" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    status=failed
    log "$tool ($size) failed with status $rc:"; tail -5 "$out" >&2
  fi
  record "$size" "$tool" "$nbytes" "$status" "" "$timing" "$@"
  [ "$rc" = 0 ]
}

# A JSON string of $1, quotes and all.
json_string() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }

# skipped SIZE TOOL REASON: records that a tool was not measured, and why.
skipped() {
  log "$2 skipped: $3"
  record "$1" "$2" 0 skipped "$3" ""
}

# record SIZE TOOL BYTES STATUS REASON TIMING_FILE CMD...
record() {
  local size=$1 tool=$2 nbytes=$3 status=$4 reason=$5 timing=$6; shift 6
  python3 - "$RESULTS" "$RUN_ID" "$SCENARIO" "$size" "$tool" "$nbytes" "$status" "$reason" \
      "$timing" "${ROUND:-1}" "{${EXTRA:-}}" "$@" <<'EOF'
import json, re, sys, datetime
path, run, scenario, size, tool, nbytes, status, reason, timing, rnd, extra = sys.argv[1:12]
command = " ".join(a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\\''") + "'"
                   for a in sys.argv[12:])
line = {"run": run, "scenario": scenario, "size": size, "tool": tool, "round": int(rnd),
        "bytes": int(nbytes), "status": status,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
if timing:
    fields = {}
    for row in open(timing):
        key, _, value = row.strip().rpartition(": ")
        fields[key] = value
    wall = fields.get("Elapsed (wall clock) time (h:mm:ss or m:ss)", "0:0")
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    line["wall_s"] = round(seconds, 3)
    line["cpu_s"] = round(float(fields.get("User time (seconds)", 0)) + float(fields.get("System time (seconds)", 0)), 3)
    line["rss_kib"] = int(fields.get("Maximum resident set size (kbytes)", 0))
if reason:
    line["reason"] = reason
line.update(json.loads(extra))
line["command"] = command
with open(path, "a") as f:
    f.write(json.dumps(line) + "\n")
EOF
}

# --- S3Proxy ------------------------------------------------------------------------------------

# Starts S3Proxy (filesystem store in $WORK/store) on $1:$PORT; $2 extra property lines, $3 an
# optional command prefix ("ip netns exec NAME"). Sets SERVER_PID; exits if it does not start.
s3proxy_start() {
  local props="$WORK/s3proxy-$1.properties" log="$WORK/s3proxy-$1.log"
  [ -f "$S3PROXY_JAR" ] || ./mvnw -B -q ${MAVEN_FLAGS:-} dependency:get \
    -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies -Dtransitive=false >&2 \
    || die "cannot fetch the S3Proxy standalone jar"
  mkdir -p "$WORK/store"
  cat > "$props" <<EOF
s3proxy.endpoint=http://$1:$PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$WORK/store
$2
EOF
  : > "$log"
  ${3:-} "$JAVA" -Xmx512m -jar "$S3PROXY_JAR" --properties "$props" > "$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    grep -q "Started .*ServerConnector" "$log" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  die "S3Proxy did not start on $1:$PORT; see $log"
}

s3proxy_stop() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# s3_upload DIR s3://bucket/prefix/ ENDPOINT PART_MIB: uploads DIR once with the AWS CLI in
# PART_MIB parts (every file over PART_MIB a multipart object, as real shards are).
s3_upload() {
  local src=$1 uri=$2 endpoint=$3 part=$4
  local bucket; bucket=$(echo "$uri" | cut -d/ -f3)
  local marker; marker="$WORK/store/.uploaded-$(echo "$uri-$(basename "$src")-$part" | tr '/:' '__')"
  [ -f "$marker" ] && return 0
  need_tool aws awscli || die "needs the AWS CLI to upload the model (apt-get install -y awscli)"
  cat > "$WORK/aws-config" <<EOF
[default]
s3 =
  multipart_chunksize = ${part}MB
  multipart_threshold = ${part}MB
EOF
  log "uploading $src to $uri in $part MiB parts"
  AWS_CONFIG_FILE="$WORK/aws-config" aws --endpoint-url "$endpoint" s3 mb "s3://$bucket" >/dev/null 2>&1 || true
  AWS_CONFIG_FILE="$WORK/aws-config" aws --endpoint-url "$endpoint" s3 sync --only-show-errors "$src" "$uri" \
    || die "uploading $src to $uri failed"
  touch "$marker"
}

# --- shaped link --------------------------------------------------------------------------------

# Makes network namespace $NETNS at $SHAPED_ADDR, reached through veth-mcb at $SHAPED_HOST, its
# side shaped with tbf to LINK_RATE_BPS. Returns non-zero (changing nothing) without root, ip, tc
# or namespaces; SHAPED_REASON then says why.
shaped_link_up() {
  SHAPED_REASON=""
  if [ "$(id -u)" -ne 0 ]; then SHAPED_REASON="needs root (veth pair and tbf)"; return 1; fi
  if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then SHAPED_REASON="needs ip and tc (iproute2)"; return 1; fi
  if ! ip netns add "$NETNS" 2>/dev/null; then SHAPED_REASON="cannot create network namespace $NETNS (left by another run?)"; return 1; fi
  NETNS_MADE=1
  ip link add veth-mcb type veth peer name veth-mcb-n
  ip link set veth-mcb-n netns "$NETNS"
  ip addr add "$SHAPED_HOST/24" dev veth-mcb && ip link set veth-mcb up
  ip netns exec "$NETNS" ip addr add "$SHAPED_ADDR/24" dev veth-mcb-n
  ip netns exec "$NETNS" ip link set veth-mcb-n up && ip netns exec "$NETNS" ip link set lo up
  ip netns exec "$NETNS" tc qdisc add dev veth-mcb-n root tbf rate "$((LINK_RATE_BPS / 1000000))mbit" \
    burst 256kb latency 20ms
}

shaped_link_down() {
  [ "$NETNS_MADE" = 1 ] || return 0
  ip link del veth-mcb 2>/dev/null || true
  ip netns del "$NETNS" 2>/dev/null || true
  NETNS_MADE=0
}

# Starts S3Proxy inside the namespace with GET_LATENCY_MS added to every GET.
s3proxy_start_shaped() {
  s3proxy_start "$SHAPED_ADDR" "s3proxy.latency-blobstore.get.latency=$GET_LATENCY_MS" "ip netns exec $NETNS"
}

# For `trap bench_cleanup EXIT`.
bench_cleanup() {
  s3proxy_stop
  shaped_link_down
}
