#!/usr/bin/env bash
# Loader benchmark: builds, generates the model once, runs fio and JMH, writes the "Loader"
# section of benchmarks/RESULTS.md. Settings fit a 2-core machine (one fork, few iterations).
#
#   benchmarks/loader-bench.sh [DATA_DIR]          (default /work/bench-data; not in the repository)
#   LOADER_BENCH_QUICK=1 benchmarks/loader-bench.sh   (1 warm-up + 2 iterations, no sweep: a smoke run)
#
# Needs: JDK 25, fio (apt-get install -y fio), root or a file system where posix_fadvise drops pages.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA=${1:-/work/bench-data}
MODEL=$DATA/model-4g
SIZE_MIB=${LOADER_BENCH_MIB:-4608}
OUT=$ROOT/benchmarks/work/loader
mkdir -p "$OUT" "$DATA"
rm -f "$OUT"/*.json "$OUT"/side.csv "$OUT"/conditions.txt
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA=$JAVA_HOME/bin/java
command -v fio >/dev/null || { echo "fio missing: apt-get install -y fio" >&2; exit 1; }

if [ "${LOADER_BENCH_QUICK:-0}" = 1 ]; then ITER="-wi 1 -i 2"; SWEEP=0; else ITER="-wi 1 -i 5"; SWEEP=1; fi

./mvnw -B -q -pl cache-loader,benchmarks -am package -DskipTests
JAR=$ROOT/benchmarks/target/benchmarks.jar
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "$JAR" dev.modelcache.benchmarks.loader.GenerateModel "$MODEL" "$SIZE_MIB" 2

{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "kernel: $(uname -r); cpus: $(nproc); memory: $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "file system: $(findmnt -no FSTYPE -T "$MODEL") on $(findmnt -no SOURCE -T "$MODEL")"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "fio: $(fio --version)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/conditions.txt"

run_fio() { # $1 = label; one sequential O_DIRECT read of every shard, bs=4M iodepth=16
  for f in "$MODEL"/*.safetensors; do
    fio --name=loader-peer --filename="$f" --rw=read --bs=4M --iodepth=16 --ioengine=libaio --direct=1 \
        --output-format=json > "$OUT/fio-$1-$(basename "$f").json"
  done
}

jmh() { # $1 = result name, rest = JMH arguments
  local name=$1; shift
  "$JAVA" -Dloader.bench.side="$OUT/side.csv" -jar "$JAR" "$@" -p model="$MODEL" -f 1 $ITER \
      -rf json -rff "$OUT/$name.json" | grep -E '^(# (Benchmark|Parameters)|Iteration|Result|<failure>)' || true
}

for i in 1 2 3; do run_fio "before$i"; done
jmh loader 'LoaderBenchmark' -p sink=discard,offheap
jmh loader-reused 'LoaderBenchmark' -p sink=offheap-reused -p cache=warm
jmh digest 'LoaderBenchmark' -p strategy=MMAP -p sink=crc32c,sha256 -p cache=warm
jmh copy 'BaselineBenchmark.segmentCopy' -p cache=warm
jmh chronicle 'BaselineBenchmark.chronicleMappedBytes' -p cache=cold,warm
for i in 1 2 3; do run_fio "after$i"; done
if [ "$SWEEP" = 1 ]; then
  ITER="-wi 0 -i 3"
  jmh sweep 'LoaderBenchmark' -p strategy=DIRECT -p sink=discard -p cache=cold \
      -p blockSizeBytes=1048576,4194304,8388608,16777216,33554432 -p inFlight=4
  jmh sweep-inflight 'LoaderBenchmark' -p strategy=DIRECT -p sink=discard -p cache=cold \
      -p blockSizeBytes=8388608 -p inFlight=1,2,8
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/conditions.txt"

python3 "$ROOT/benchmarks/loader-report.py" "$OUT" "$MODEL" "$ROOT/benchmarks/RESULTS.md"
echo "wrote the Loader section of benchmarks/RESULTS.md"
