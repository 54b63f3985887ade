#!/usr/bin/env bash
# Sweeps part size x concurrency for a download from S3Proxy, on loopback and (as root) behind a
# shaped 1 gbit link with 20 ms per GET, to choose the s3 defaults. Prints one line per point:
#   link part_mib concurrency seconds MiB/s
#
# Usage: benchmarks/s3-sweep.sh   Knobs: TOOL=backend|cache PARTS="2 8 32" CONCURRENCIES="4 16 64"
#   SHARDS=2 SHARD_MIB=512 LINKS="loopback shaped" WORK=benchmarks/work/s3-sweep
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)
TOOL=${TOOL:-backend}
PARTS=${PARTS:-"2 8 32"}
CONCURRENCIES=${CONCURRENCIES:-"4 16 64"}
SHARDS=${SHARDS:-2}
SHARD_MIB=${SHARD_MIB:-512}
LINKS=${LINKS:-"loopback shaped"}
WORK=${WORK:-$ROOT_DIR/benchmarks/work/s3-sweep}
PORT=${PORT:-18183}
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA="$JAVA_HOME/bin/java"
[ -x /usr/bin/aws ] || { echo "needs /usr/bin/aws: apt-get install -y awscli" >&2; exit 1; }
./mvnw -B -q -pl benchmarks -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=target/cp.txt >/dev/null
mkdir -p "$WORK"
LIB="$WORK/lib"
rm -rf "$LIB" && mkdir -p "$LIB"
cp -r benchmarks/target/classes "$LIB/0-classes"
CP="$LIB/0-classes"
IFS=: read -ra CP_ENTRIES < benchmarks/target/cp.txt || true  # no newline at its end
n=1
for entry in "${CP_ENTRIES[@]}"; do
  case "$entry" in
    "$ROOT_DIR"/*) cp -r "$entry" "$LIB/$n-$(basename "$entry")"; CP="$CP:$LIB/$n-$(basename "$entry")" ;;
    *) CP="$CP:$entry" ;;
  esac
  n=$((n + 1))
done
JAR="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
[ -f "$JAR" ] || ./mvnw -B -q dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies -Dtransitive=false >/dev/null

SERVER_PID=""
NETNS_MADE=0
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "$NETNS_MADE" = 1 ]; then ip link del veth-h 2>/dev/null || true; ip netns del s3net 2>/dev/null || true; fi
}
trap cleanup EXIT
start_server() { # $1 address, $2 extra property line, $3 optional netns prefix
  cat > "$WORK/p-$1.properties" <<EOF
s3proxy.endpoint=http://$1:$PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$WORK/store
$2
EOF
  : > "$WORK/s3proxy-$1.log"
  ${3:-} "$JAVA" -Xmx512m -jar "$JAR" --properties "$WORK/p-$1.properties" > "$WORK/s3proxy-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do grep -q "Started .*ServerConnector" "$WORK/s3proxy-$1.log" && return 0; sleep 0.1; done
  echo "S3Proxy did not start" >&2; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

mkdir -p "$WORK/store"
start_server 127.0.0.1 ""
if [ ! -f "$WORK/store/.uploaded-$SHARDS-$SHARD_MIB" ]; then
  mkdir -p "$WORK/src"
  for i in $(seq 1 "$SHARDS"); do head -c "$((SHARD_MIB * 1048576))" /dev/urandom > "$WORK/src/shard-$i.bin"; done
  /usr/bin/aws --endpoint-url "http://127.0.0.1:$PORT" s3 mb s3://sweep >/dev/null 2>&1 || true
  /usr/bin/aws --endpoint-url "http://127.0.0.1:$PORT" s3 sync --only-show-errors "$WORK/src" s3://sweep/model/
  rm -rf "$WORK/src"
  touch "$WORK/store/.uploaded-$SHARDS-$SHARD_MIB"
fi
cat "$WORK/store/sweep/model/"* > /dev/null

sweep() { # $1 link name, $2 endpoint
  for part in $PARTS; do
    for conc in $CONCURRENCIES; do
      rm -rf "$WORK/out" && sync
      line=$("$JAVA" -Xmx1g --enable-native-access=ALL-UNNAMED -cp "$CP" dev.modelcache.benchmarks.s3.S3Download \
        "$TOOL" "$2" s3://sweep/model/ "$WORK/out" "$((part * 1048576))" "$conc" 2>/dev/null | grep '^RESULT')
      echo "$1 $part $conc $(echo "$line" | awk '{print $4, $5}')"
    done
  done
}

echo "# $TOOL, $SHARDS x $SHARD_MIB MiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# link part_mib concurrency seconds MiB/s"
for link in $LINKS; do
  case "$link" in
    loopback) sweep loopback "http://127.0.0.1:$PORT" ;;
    shaped)
      if [ "$(id -u)" -ne 0 ] || ! ip netns add s3net 2>/dev/null; then
        echo "# shaped: skipped (needs root and network namespaces)"; continue
      fi
      stop_server
      NETNS_MADE=1
      ip link add veth-h type veth peer name veth-n
      ip link set veth-n netns s3net
      ip addr add 10.200.0.1/24 dev veth-h && ip link set veth-h up
      ip netns exec s3net ip addr add 10.200.0.2/24 dev veth-n
      ip netns exec s3net ip link set veth-n up && ip netns exec s3net ip link set lo up
      ip netns exec s3net tc qdisc add dev veth-n root tbf rate 1gbit burst 256kb latency 20ms
      start_server 10.200.0.2 "s3proxy.latency-blobstore.get.latency=20" "ip netns exec s3net"
      sweep shaped "http://10.200.0.2:$PORT"
      ;;
  esac
done
echo "# load average after $(cut -d' ' -f1-3 /proc/loadavg)"
