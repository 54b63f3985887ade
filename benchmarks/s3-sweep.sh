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
. benchmarks/s3proxy-lib.sh
bench_java
[ -x /usr/bin/aws ] || { echo "needs /usr/bin/aws: apt-get install -y awscli" >&2; exit 1; }
mkdir -p "$WORK"
bench_classpath "$WORK/lib"
trap s3proxy_cleanup EXIT

s3proxy_start 127.0.0.1 ""
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
      if ! shaped_link_up; then
        echo "# shaped: skipped (needs root, ip, tc and network namespaces)"; continue
      fi
      s3proxy_stop
      s3proxy_start 10.200.0.2 "s3proxy.latency-blobstore.get.latency=20" "ip netns exec s3net"
      sweep shaped "http://10.200.0.2:$PORT"
      ;;
  esac
done
echo "# load average after $(cut -d' ' -f1-3 /proc/loadavg)"
