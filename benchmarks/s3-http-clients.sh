#!/usr/bin/env bash
# Compares the AWS SDK's HTTP clients (Apache 5, Apache 4, Netty, CRT) on the s3 backend's access
# pattern: concurrent explicit-range GETs of one 1 GiB object from S3Proxy on loopback, into
# direct buffers (no disk). Prints MiB/s and client CPU seconds per GiB, per client and round.
#
# Usage: benchmarks/s3-http-clients.sh   Knobs: ROUNDS=3 PART_MIB=8 CONCURRENCY=16 WORK=benchmarks/work/s3-http
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
PART_MIB=${PART_MIB:-8}
CONCURRENCY=${CONCURRENCY:-16}
WORK=${WORK:-$(pwd)/benchmarks/work/s3-http}
PORT=${PORT:-18182}
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
[ -x /usr/bin/aws ] || { echo "needs /usr/bin/aws: apt-get install -y awscli" >&2; exit 1; }
./mvnw -B -q -pl benchmarks -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=target/cp.txt >/dev/null
CP="$(pwd)/benchmarks/target/classes:$(cat benchmarks/target/cp.txt)"
JAR="$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"
[ -f "$JAR" ] || ./mvnw -B -q dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies -Dtransitive=false >/dev/null
mkdir -p "$WORK/store"
cat > "$WORK/p.properties" <<EOF
s3proxy.endpoint=http://127.0.0.1:$PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$WORK/store
EOF
"$JAVA_HOME/bin/java" -Xmx512m -jar "$JAR" --properties "$WORK/p.properties" > "$WORK/s3proxy.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do grep -q "Started .*ServerConnector" "$WORK/s3proxy.log" 2>/dev/null && break; sleep 0.1; done
EP="http://127.0.0.1:$PORT"
if [ ! -f "$WORK/store/.uploaded" ]; then
  head -c 1073741824 /dev/urandom > "$WORK/obj.bin"
  /usr/bin/aws --endpoint-url "$EP" s3 mb s3://probe >/dev/null 2>&1 || true
  /usr/bin/aws --endpoint-url "$EP" s3 cp --only-show-errors "$WORK/obj.bin" s3://probe/obj.bin
  rm -f "$WORK/obj.bin"
  touch "$WORK/store/.uploaded"
fi
cat "$WORK/store/probe/obj.bin" > /dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Each round starts a fresh JVM with the clients in a rotated order, so JIT warm-up is shared out.
ORDER=(apache5 apache netty crt)
for round in $(seq 1 "$ROUNDS"); do
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.modelcache.benchmarks.s3.HttpClientProbe \
    "$EP" probe obj.bin 1073741824 "$((PART_MIB * 1048576))" "$CONCURRENCY" 2 "${ORDER[@]}" 2>/dev/null \
    | grep MiB/s | tail -n "${#ORDER[@]}" | sed "s/^/round $round: /"
  ORDER=("${ORDER[@]:1}" "${ORDER[0]}")
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
