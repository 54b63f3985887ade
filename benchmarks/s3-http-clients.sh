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
. benchmarks/s3proxy-lib.sh
bench_java
[ -x /usr/bin/aws ] || { echo "needs /usr/bin/aws: apt-get install -y awscli" >&2; exit 1; }
mkdir -p "$WORK"
bench_classpath "$WORK/lib"
trap s3proxy_cleanup EXIT
s3proxy_start 127.0.0.1 ""
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
  "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.modelcache.benchmarks.s3.HttpClientProbe \
    "$EP" probe obj.bin 1073741824 "$((PART_MIB * 1048576))" "$CONCURRENCY" 2 "${ORDER[@]}" 2>/dev/null \
    | grep MiB/s | tail -n "${#ORDER[@]}" | sed "s/^/round $round: /"
  ORDER=("${ORDER[@]:1}" "${ORDER[0]}")
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
