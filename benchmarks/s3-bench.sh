#!/usr/bin/env bash
# Downloads one multi-shard model from S3Proxy (standalone, filesystem store, -Xmx512m) on loopback
# with modelcache and with its peers, in the same run against the same server, and writes the "S3"
# section of benchmarks/RESULTS.md.
#
#   peers: aws s3 sync (Debian awscli), S3TransferManager.downloadDirectory (Java client, CRT
#   client), a KServe-style boto3 download (4 processes x download_file)
#   ours: cache (ModelCache.ensure in a plain JVM), cache-buffered (the same with directWrites off:
#   through the page cache), cli-aot (`modelcache prefetch` the way the Docker image runs it: with
#   the AOT cache bin/modelcache-train-aot records), backend
#
# Before the timed rounds one untimed download warms the server up (its JIT, its page cache), so
# that no tool pays for a cold server.
#
# Usage: benchmarks/s3-bench.sh            (from anywhere; needs JDK 25, root for apt and shaping)
# Knobs (environment): ROUNDS=3 SHARDS=4 SHARD_MIB=1152
#   TOOLS="cache cache-buffered cli-aot aws tm-java tm-crt boto3 backend"
#   PART_MIB=8 CONCURRENCY=16 SHAPED=1 (0 skips the shaped-link run) WORK=benchmarks/work/s3
#   WRITE_RESULTS=1 (0 only prints)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)

ROUNDS=${ROUNDS:-3}
SHARDS=${SHARDS:-4}
SHARD_MIB=${SHARD_MIB:-1152}
TOOLS=${TOOLS:-"cache cache-buffered cli-aot aws tm-java tm-crt boto3 backend"}
PART_MIB=${PART_MIB:-8}
CONCURRENCY=${CONCURRENCY:-16}
SHAPED=${SHAPED:-1}
WRITE_RESULTS=${WRITE_RESULTS:-1}
WORK=${WORK:-$ROOT_DIR/benchmarks/work/s3}
PORT=${PORT:-18181}
BUCKET=bench
PREFIX=model/
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
COMMAND_LINE="$0 $*"
ENV_LINE="ROUNDS=$ROUNDS SHARDS=$SHARDS SHARD_MIB=$SHARD_MIB PART_MIB=$PART_MIB CONCURRENCY=$CONCURRENCY TOOLS=\"$TOOLS\" SHAPED=$SHAPED"

. benchmarks/s3proxy-lib.sh
bench_java
AWS=/usr/bin/aws
PY=/usr/bin/python3
mkdir -p "$WORK"
log() { echo "[s3-bench $(date -u +%H:%M:%S)] $*" >&2; }

# --- peers -----------------------------------------------------------------------------------
need_apt=()
[ -x "$AWS" ] || need_apt+=(awscli)
"$PY" -c 'import boto3' 2>/dev/null || need_apt+=(python3-boto3)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${need_apt[*]}: install them (apt-get install -y ${need_apt[*]}) or run as root" >&2
    exit 1
  fi
  log "installing ${need_apt[*]}"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
fi

# --- build -----------------------------------------------------------------------------------
log "building benchmarks"
# Run from a copy of the project's classes and jars, so rebuilding the tree meanwhile is harmless.
bench_classpath "$WORK/lib" cache-cli
# The command as the Docker image lays it out, with the AOT cache its build records.
CLI="$WORK/cli"
rm -rf "$CLI" && mkdir -p "$CLI"
cp "$(ls cache-cli/target/cache-cli-*.jar | grep -v -e '-sources' -e '-javadoc' | head -n 1)" "$CLI/modelcache.jar"
cp -r cache-cli/target/lib "$CLI/lib"
CLI_CP="$CLI/modelcache.jar:$CLI/lib/*"
bin/modelcache-train-aot --java "$JAVA" --classpath "$CLI_CP" --output "$CLI/modelcache.aot" \
  2> "$WORK/train-aot.log" || { cat "$WORK/train-aot.log" >&2; exit 1; }

# --- the model -------------------------------------------------------------------------------
SRC="$WORK/src"
if [ ! -f "$SRC/.complete-$SHARDS-$SHARD_MIB" ]; then
  log "writing a model of $SHARDS x $SHARD_MIB MiB shards"
  rm -rf "$SRC" && mkdir -p "$SRC/tokenizer" "$SRC/extra"
  for i in $(seq 1 "$SHARDS"); do
    head -c "$((SHARD_MIB * 1048576))" /dev/urandom > "$SRC/model-0000$i-of-0000$SHARDS.safetensors"
  done
  head -c 4096 /dev/urandom | base64 > "$SRC/config.json"
  head -c 3000000 /dev/urandom | base64 > "$SRC/tokenizer/tokenizer.json"
  : > "$SRC/extra/empty.txt"
  touch "$SRC/.complete-$SHARDS-$SHARD_MIB"
fi
TOTAL_BYTES=$(find "$SRC" -type f ! -name '.complete-*' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')

# --- the server ------------------------------------------------------------------------------
trap s3proxy_cleanup EXIT

ENDPOINT="http://127.0.0.1:$PORT"
s3proxy_start 127.0.0.1 ""
if [ ! -f "$WORK/store/.uploaded-$SHARDS-$SHARD_MIB" ]; then
  log "uploading the model to s3://$BUCKET/$PREFIX"
  "$AWS" --endpoint-url "$ENDPOINT" s3 mb "s3://$BUCKET" >/dev/null 2>&1 || true
  "$AWS" --endpoint-url "$ENDPOINT" s3 rm --recursive --only-show-errors "s3://$BUCKET/$PREFIX" || true
  "$AWS" --endpoint-url "$ENDPOINT" s3 sync --only-show-errors --exclude '.complete-*' "$SRC" "s3://$BUCKET/$PREFIX"
  touch "$WORK/store/.uploaded-$SHARDS-$SHARD_MIB"
fi

# --- runs ------------------------------------------------------------------------------------
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
OUT="$WORK/out"

run_tool() { # $1 tool, $2 endpoint, $3 label suffix; appends "tool<TAB>seconds<TAB>maxrss_kib<TAB>bytes"
  # (bytes are checked file by file in the first round, by check_bytes)
  local tool=$1 endpoint=$2 timing="$WORK/time.txt" dest="$OUT/$1"
  rm -rf "$OUT" && mkdir -p "$dest" && sync
  case "$tool" in
    cache|cache-buffered|backend|tm-java|tm-java-multipart|tm-crt)
      /usr/bin/time -f '%e %M' -o "$timing" "$JAVA" -Xmx1g --enable-native-access=ALL-UNNAMED -cp "$CP" \
        dev.modelcache.benchmarks.s3.S3Download "$tool" "$endpoint" "s3://$BUCKET/$PREFIX" "$dest" \
        "$((PART_MIB * 1048576))" "$CONCURRENCY" > "$WORK/run.log" 2>&1 ;;
    cli-aot)
      /usr/bin/time -f '%e %M' -o "$timing" "$JAVA" --enable-native-access=ALL-UNNAMED \
        -XX:AOTCache="$CLI/modelcache.aot" -Xlog:disable -Xlog:all=warning,aot*=off:stderr -cp "$CLI_CP" \
        dev.modelcache.cli.Main --root "$dest" --quiet prefetch "s3://$BUCKET/$PREFIX" --endpoint "$endpoint" \
        --concurrency "$CONCURRENCY" --part-size "${PART_MIB}MiB" > "$WORK/run.log" 2>&1 ;;
    aws)
      /usr/bin/time -f '%e %M' -o "$timing" "$AWS" --endpoint-url "$endpoint" s3 sync --only-show-errors \
        "s3://$BUCKET/$PREFIX" "$dest" > "$WORK/run.log" 2>&1 ;;
    boto3)
      /usr/bin/time -f '%e %M' -o "$timing" "$PY" "$ROOT_DIR/benchmarks/s3-boto3-download.py" "$endpoint" \
        "$BUCKET" "$PREFIX" "$dest" > "$WORK/run.log" 2>&1 ;;
    *) echo "unknown tool $tool" >&2; return 1 ;;
  esac || { log "$tool failed:"; tail -5 "$WORK/run.log" >&2; echo -e "$tool$3\tFAILED\t0\t0" >> "$RESULTS"; return 0; }
  read -r secs rss < "$timing"
  echo -e "$tool$3\t$secs\t$rss\t$TOTAL_BYTES" >> "$RESULTS"
  log "$tool$3: ${secs}s, peak RSS ${rss} KiB"
}

check_bytes() { # compares every downloaded model file with the source, once per tool
  local tool=$1 dest="$OUT/$1" f rel
  while IFS= read -r -d '' f; do
    rel=${f#"$SRC"/}
    local got
    got=$(find "$dest" -path "*/$rel" -type f | head -1)
    if [ -z "$got" ] || ! cmp -s "$f" "$got"; then
      log "$tool: $rel differs from the source or is missing"; return 1
    fi
  done < <(find "$SRC" -type f ! -name '.complete-*' -print0)
  log "$tool: every file identical to the source"
}

# Warm the server's page cache so every tool reads the same warm store.
cat "$WORK/store/$BUCKET/$PREFIX"* "$WORK/store/$BUCKET/$PREFIX"*/* >/dev/null 2>&1 || true

warm_up() { # $1 endpoint: one untimed download
  rm -rf "$OUT" && mkdir -p "$OUT/warm-up"
  log "warm-up download (untimed)"
  if ! "$JAVA" -Xmx1g --enable-native-access=ALL-UNNAMED -cp "$CP" dev.modelcache.benchmarks.s3.S3Download \
      cache "$1" "s3://$BUCKET/$PREFIX" "$OUT/warm-up" "$((PART_MIB * 1048576))" "$CONCURRENCY" \
      > "$WORK/warm-up.log" 2>&1; then
    log "warm-up failed:"; tail -5 "$WORK/warm-up.log" >&2; exit 1
  fi
}
warm_up "$ENDPOINT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  for tool in $TOOLS; do
    run_tool "$tool" "$ENDPOINT" ""
    if [ "$round" = 1 ] && ! grep -q "^$tool	FAILED" "$RESULTS"; then check_bytes "$tool" || exit 1; fi
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
s3proxy_stop

# --- shaped link: 1 gbit, 20 ms per GET --------------------------------------------------------
SHAPED_NOTE=""
if [ "$SHAPED" = 1 ]; then
  if ! shaped_link_up; then
    SHAPED_NOTE="skipped: needs root, ip, tc and network namespaces"
  else
    s3proxy_start 10.200.0.2 "s3proxy.latency-blobstore.get.latency=20" "ip netns exec s3net"
    warm_up "http://10.200.0.2:$PORT"
    for tool in ${SHAPED_TOOLS:-cache backend aws tm-crt}; do
      run_tool "$tool" "http://10.200.0.2:$PORT" "@1gbit"
    done
    s3proxy_stop
  fi
fi

# --- report ----------------------------------------------------------------------------------
SECTION="$WORK/section.md"
export ENV_LINE SRC SHARDS SHARD_MIB ROUNDS LOAD_BEFORE LOAD_AFTER SHAPED_NOTE
"$PY" - "$RESULTS" "$TOTAL_BYTES" "$SECTION" <<'EOF'
import statistics, sys, collections, datetime, subprocess, os
env = os.environ
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
total = int(sys.argv[2])
by = collections.OrderedDict()
for tool, secs, rss, nbytes in rows:
    by.setdefault(tool, []).append((secs, int(rss), int(nbytes)))
names = {
    "cache": "modelcache (ModelCache.ensure, s3 backend: verified, fsynced, committed)",
    "cache-buffered": "modelcache (ModelCache.ensure as above, with directWrites(false): written through the page cache)",
    "cli-aot": "modelcache prefetch, the command as the Docker image runs it (with its AOT cache)",
    "backend": "modelcache s3 backend alone (ranges into files, no verify, no fsync)",
    "aws": "aws s3 sync (Debian awscli 2.9.19, defaults)",
    "tm-java": "S3TransferManager.downloadDirectory, Java (Netty) client",
    "tm-java-multipart": "S3TransferManager.downloadDirectory, Java multipart client",
    "tm-crt": "S3TransferManager.downloadDirectory, CRT client",
    "boto3": "boto3, 4 processes x download_file (KServe style)",
}
def label(tool):
    base, _, shaped = tool.partition("@")
    return names.get(base, base) + (" [1 gbit, 20 ms per GET]" if shaped else "")
med = {}
for tool, runs in by.items():
    ok = [float(s) for s, _, b in runs if s != "FAILED"]
    if ok:
        med[tool] = statistics.median(ok)
ours = med.get("cache") or med.get("backend")
ours_name = "cache" if "cache" in med else "backend"
out = []
out.append("## S3")
out.append("")
out.append("Command: `%s benchmarks/s3-bench.sh`, run on %s UTC." % (env["ENV_LINE"], datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")))
out.append("")
out.append("Model: %d files, %.2f GiB in total (%s shards of %s MiB, a 3 MiB tokenizer, a config, an empty file, nested directories), uploaded with `aws s3 sync` (so the shards are multipart objects). Server: S3Proxy 4.1.0 standalone (`-Xmx512m`, filesystem store on ext4, its files warm in the page cache, its JIT warmed up by one untimed download) on 127.0.0.1. Each run downloads into an empty directory after `sync`; wall time includes process start. Throughput = model bytes / wall seconds; medians of %s rounds, tools interleaved. Peak RSS from `/usr/bin/time` (%%M), largest of the rounds." % (
    sum(1 for _ in subprocess.run(["find", env["SRC"], "-type", "f", "!", "-name", ".complete-*"], capture_output=True, text=True).stdout.splitlines()),
    total / 2**30, env["SHARDS"], env["SHARD_MIB"], env["ROUNDS"]))
out.append("")
out.append("Machine: %s cores, shared with other builds while measuring (load average %s before, %s after): figures drift between runs; compare the ratios, measured in the same run." % (subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(), env["LOAD_BEFORE"], env["LOAD_AFTER"]))
out.append("")
cli = med.get("cli-aot")
out.append("| tool | runs (s) | median MiB/s | ours / tool | command with AOT cache / tool | peak RSS (MiB) |" if cli else
           "| tool | runs (s) | median MiB/s | ours / tool | peak RSS (MiB) |")
out.append("|---|---|---|---|---|---|" if cli else "|---|---|---|---|---|")
for tool, runs in by.items():
    secs = ", ".join(s for s, _, _ in runs)
    rss = max(r for _, r, _ in runs) / 1024
    if tool in med:
        mibs = total / 2**20 / med[tool]
        if "@" in tool:
            ratio = "%.0f%% of the link" % (100 * mibs / (1e9 / 8 / 2**20))
            cli_ratio = "-"
        else:
            ratio = "%.2fx" % (med[tool] / ours) if ours else "-"
            cli_ratio = "%.2fx" % (med[tool] / cli) if cli else "-"
        cells = [label(tool), secs, "%.0f" % mibs, ratio] + ([cli_ratio] if cli else []) + ["%.0f" % rss]
    else:
        cells = [label(tool), secs, "failed", "-"] + (["-"] if cli else []) + ["-"]
    out.append("| " + " | ".join(cells) + " |")
out.append("")
out.append("\"ours / tool\" is that tool's median time divided by ours (%s): above 1 means ours is faster." % ours_name
           + (" \"command with AOT cache / tool\" divides by the median of cli-aot instead." if cli else ""))
out.append("")
out.append("What each run does: modelcache lists (ListObjectsV2 + one HEAD per object), reads 8 MiB ranges pinned with If-Match at 16 at a time (queued in four staggered streams, so four files are written at once), writes whole blocks with O_DIRECT (the default; each file's short last block through the page cache), reads every block back from the disk as soon as it is written and compares its CRC32C with the bytes received, fsyncs every file and directory, writes the manifest and renames the entry into place. The cli-aot run is `modelcache prefetch` started the way the Docker image starts it: a JVM with the AOT cache (JDK 25: classes loaded and linked, method profiles) that `bin/modelcache-train-aot` records from one `prefetch` of a small generated model (80 MiB, its own S3Proxy), not from this model. The backend-alone run reads the same ranges into files with no checks and no fsync. The peers write into the page cache without fsync. S3TransferManager on the Java client downloads one GET per object: its multipart client reads parts with `GET ?partNumber=`, which S3Proxy answers 501 (`tm-java-multipart` in this script). boto3 uses its default TransferConfig (8 MiB parts, 10 threads per process).")
shaped_note = env.get("SHAPED_NOTE", "")
if shaped_note:
    out.append("")
    out.append("Shaped-link run " + shaped_note + ".")
open(sys.argv[3], "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF

if [ "$WRITE_RESULTS" = 1 ]; then
  RESULTS_MD="$ROOT_DIR/benchmarks/RESULTS.md"
  [ -f "$RESULTS_MD" ] || printf '# Benchmark results\n\n' > "$RESULTS_MD"
  "$PY" - "$RESULTS_MD" "$SECTION" <<'EOF'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
block = "<!-- s3:begin -->\n" + section + "<!-- s3:end -->\n"
if "<!-- s3:begin -->" in text:
    text = re.sub(r"<!-- s3:begin -->.*?<!-- s3:end -->\n", lambda m: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + block
open(path, "w").write(text)
EOF
  log "wrote the S3 section of benchmarks/RESULTS.md"
fi
