# Sourced (not run) by the S3 benchmark scripts, from the repository root: a JDK 25, the
# benchmarks' class path, and an S3Proxy server (filesystem store) on loopback or behind a shaped
# link in a network namespace. The caller sets WORK and PORT and the AWS_* credentials.

S3PROXY_JAR="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
SERVER_PID=""
NETNS_MADE=0

# Sets JAVA_HOME to a JDK 25 (the caller's, else Temurin's) and JAVA to its java.
bench_java() {
  if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
  fi
  JAVA="$JAVA_HOME/bin/java"
}

# Builds the benchmarks and copies the project's classes and jars into $1, so that rebuilding the
# tree meanwhile is harmless; sets CP. Extra Maven modules to build may follow ($2, ...).
bench_classpath() {
  local lib=$1 modules=benchmarks n=1 entry root
  shift
  for entry in "$@"; do modules="$modules,$entry"; done
  root=$(pwd)
  ./mvnw -B -q -pl "$modules" -am package -DskipTests dependency:build-classpath \
    -Dmdep.outputFile=target/cp.txt >/dev/null
  rm -rf "$lib" && mkdir -p "$lib"
  cp -r benchmarks/target/classes "$lib/0-classes"
  CP="$lib/0-classes"
  local entries
  IFS=: read -ra entries < benchmarks/target/cp.txt || true  # no newline at its end
  for entry in "${entries[@]}"; do
    case "$entry" in
      "$root"/*) cp -r "$entry" "$lib/$n-$(basename "$entry")"; CP="$CP:$lib/$n-$(basename "$entry")" ;;
      *) CP="$CP:$entry" ;;
    esac
    n=$((n + 1))
  done
  if [ ! -f "$S3PROXY_JAR" ]; then
    ./mvnw -B -q dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies -Dtransitive=false >/dev/null
  fi
}

# Starts S3Proxy on $1:$PORT with the store in $WORK/store; $2 extra property lines, $3 an
# optional command prefix ("ip netns exec s3net"). Sets SERVER_PID; exits if it does not start.
s3proxy_start() {
  local props="$WORK/s3proxy-$1.properties" log="$WORK/s3proxy-$1.log"
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
  for _ in $(seq 1 200); do
    if grep -q "Started .*ServerConnector" "$log" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "S3Proxy did not start; see $log" >&2
  exit 1
}

s3proxy_stop() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# Makes network namespace s3net at 10.200.0.2, reached through veth-h at 10.200.0.1, its side
# shaped to 1 gbit. Returns non-zero (changing nothing) without root, ip, tc or namespaces.
shaped_link_up() {
  if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null \
      || ! ip netns add s3net 2>/dev/null; then
    return 1
  fi
  NETNS_MADE=1
  ip link add veth-h type veth peer name veth-n
  ip link set veth-n netns s3net
  ip addr add 10.200.0.1/24 dev veth-h && ip link set veth-h up
  ip netns exec s3net ip addr add 10.200.0.2/24 dev veth-n
  ip netns exec s3net ip link set veth-n up && ip netns exec s3net ip link set lo up
  ip netns exec s3net tc qdisc add dev veth-n root tbf rate 1gbit burst 256kb latency 20ms
}

# For `trap s3proxy_cleanup EXIT`: stops the server and removes the shaped link.
s3proxy_cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "$NETNS_MADE" = 1 ]; then ip link del veth-h 2>/dev/null || true; ip netns del s3net 2>/dev/null || true; fi
}
