#!/usr/bin/env bash
# What checking multipart objects against their ETag costs a download: the engine before that check
# (BASELINE, by default the revision before it was added) and the current tree, alternated in the
# same run against the same S3Proxy (standalone, filesystem store) holding a model uploaded with the
# AWS CLI (so every shard is a multipart object with 8 MiB parts), on loopback and behind a shaped
# 1 gbit link with 20 ms added to every GET. Writes the "Multipart verification" section of
# benchmarks/RESULTS.md.
#
# Usage: benchmarks/s3-verify-cost.sh      (from anywhere; needs JDK 25, root for apt and shaping)
# Knobs (environment): ROUNDS=3 SHAPED_ROUNDS=2 SHARDS=4 SHARD_MIB=1152 PART_MIB=8 CONCURRENCY=16
#   SHAPED=1 (0 skips the shaped link) BASELINE=<git revision> WORK=benchmarks/work/verify-cost
#   WRITE_RESULTS=1 (0 only prints)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)

ROUNDS=${ROUNDS:-3}
SHAPED_ROUNDS=${SHAPED_ROUNDS:-2}
SHARDS=${SHARDS:-4}
SHARD_MIB=${SHARD_MIB:-1152}
PART_MIB=${PART_MIB:-8}
CONCURRENCY=${CONCURRENCY:-16}
SHAPED=${SHAPED:-1}
WRITE_RESULTS=${WRITE_RESULTS:-1}
WORK=${WORK:-$ROOT_DIR/benchmarks/work/verify-cost}
PORT=${PORT:-18183}
BUCKET=bench
PREFIX=model/
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
if [ -z "${BASELINE:-}" ]; then
  added=$(git log -1 --format=%H -S MULTIPART_MD5 -- cache-core/src/main/java/dev/modelcache/core/spi/SourceChecksum.java)
  BASELINE=$(git rev-parse "$added^")
fi
ENV_LINE="ROUNDS=$ROUNDS SHAPED_ROUNDS=$SHAPED_ROUNDS SHARDS=$SHARDS SHARD_MIB=$SHARD_MIB PART_MIB=$PART_MIB CONCURRENCY=$CONCURRENCY BASELINE=$(git rev-parse --short "$BASELINE")"

. benchmarks/s3proxy-lib.sh
bench_java
mkdir -p "$WORK"
log() { echo "[verify-cost $(date -u +%H:%M:%S)] $*" >&2; }

AWS=$(command -v aws || true)
if [ -z "$AWS" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "needs the AWS CLI (apt-get install -y awscli)" >&2; exit 1; fi
  log "installing awscli"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q awscli >/dev/null
  AWS=/usr/bin/aws
fi

# --- build: the baseline in a worktree of its own, and this tree ----------------------------
log "building the current tree"
bench_classpath "$WORK/lib-current"
CP_CURRENT=$CP
log "building the baseline $(git rev-parse --short "$BASELINE")"
rm -rf "$WORK/baseline-src"
git worktree prune
git worktree add -q --detach "$WORK/baseline-src" "$BASELINE"
pushd "$WORK/baseline-src" >/dev/null
bench_classpath "$WORK/lib-baseline"
popd >/dev/null
CP_BASELINE=$CP
git worktree remove --force "$WORK/baseline-src"

# --- the model, uploaded in 8 MiB parts --------------------------------------------------------
SRC="$WORK/src"
if [ ! -f "$SRC/.complete-$SHARDS-$SHARD_MIB" ]; then
  log "writing a model of $SHARDS x $SHARD_MIB MiB shards"
  rm -rf "$SRC" && mkdir -p "$SRC"
  for i in $(seq 1 "$SHARDS"); do
    head -c "$((SHARD_MIB * 1048576))" /dev/urandom > "$SRC/model-0000$i-of-0000$SHARDS.safetensors"
  done
  head -c 4096 /dev/urandom | base64 > "$SRC/config.json"
  touch "$SRC/.complete-$SHARDS-$SHARD_MIB"
fi
TOTAL_BYTES=$(find "$SRC" -type f ! -name '.complete-*' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')

trap s3proxy_cleanup EXIT
ENDPOINT="http://127.0.0.1:$PORT"
s3proxy_start 127.0.0.1 ""
if [ ! -f "$WORK/store/.uploaded-$SHARDS-$SHARD_MIB" ]; then
  log "uploading the model to s3://$BUCKET/$PREFIX in ${PART_MIB} MiB parts"
  cat > "$WORK/aws-config" <<EOF
[default]
s3 =
  multipart_chunksize = ${PART_MIB}MB
  multipart_threshold = ${PART_MIB}MB
EOF
  AWS_CONFIG_FILE="$WORK/aws-config" "$AWS" --endpoint-url "$ENDPOINT" s3 mb "s3://$BUCKET" >/dev/null 2>&1 || true
  AWS_CONFIG_FILE="$WORK/aws-config" "$AWS" --endpoint-url "$ENDPOINT" s3 sync --only-show-errors \
    --exclude '.complete-*' "$SRC" "s3://$BUCKET/$PREFIX"
  touch "$WORK/store/.uploaded-$SHARDS-$SHARD_MIB"
fi

RESULTS="$WORK/results.tsv"
: > "$RESULTS"
OUT="$WORK/out"

run_engine() { # $1 baseline|current, $2 endpoint, $3 label suffix
  local engine=$1 cp timing="$WORK/time.txt"
  if [ "$engine" = baseline ]; then cp=$CP_BASELINE; else cp=$CP_CURRENT; fi
  rm -rf "$OUT" && mkdir -p "$OUT" && sync
  /usr/bin/time -f '%e %U %S %M' -o "$timing" "$JAVA" -Xmx1g --enable-native-access=ALL-UNNAMED -cp "$cp" \
    dev.modelcache.benchmarks.s3.S3Download cache "$2" "s3://$BUCKET/$PREFIX" "$OUT" \
    "$((PART_MIB * 1048576))" "$CONCURRENCY" > "$WORK/run.log" 2>&1 \
    || { log "$engine failed:"; tail -5 "$WORK/run.log" >&2; exit 1; }
  read -r secs user sys rss < "$timing"
  echo -e "$engine$3\t$secs\t$user\t$sys\t$rss" >> "$RESULTS"
  log "$engine$3: ${secs}s wall, ${user}s user + ${sys}s system, peak RSS ${rss} KiB"
}

check_current() { # the current engine verified every shard against its multipart ETag
  local manifest
  manifest=$(find "$OUT" -name manifest.json | head -1)
  local verified
  verified=$(grep -o '"integrity": "etag-multipart"' "$manifest" | wc -l)
  if [ "$verified" != "$SHARDS" ]; then
    log "expected $SHARDS files verified against their multipart ETag, found $verified in $manifest"; exit 1
  fi
  log "current: all $SHARDS shards verified against their multipart ETags"
}

cat "$WORK/store/$BUCKET/$PREFIX"* >/dev/null 2>&1 || true
run_engine current "$ENDPOINT" "-warm-up" && check_current
sed -i '/-warm-up/d' "$RESULTS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  run_engine baseline "$ENDPOINT" ""
  run_engine current "$ENDPOINT" ""
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
s3proxy_stop

SHAPED_NOTE=""
if [ "$SHAPED" = 1 ]; then
  if ! shaped_link_up; then
    SHAPED_NOTE="skipped: needs root, ip, tc and network namespaces"
  else
    s3proxy_start 10.200.0.2 "s3proxy.latency-blobstore.get.latency=20" "ip netns exec s3net"
    run_engine current "http://10.200.0.2:$PORT" "-warm-up@1gbit"
    sed -i '/-warm-up/d' "$RESULTS"
    for round in $(seq 1 "$SHAPED_ROUNDS"); do
      run_engine baseline "http://10.200.0.2:$PORT" "@1gbit"
      run_engine current "http://10.200.0.2:$PORT" "@1gbit"
    done
    s3proxy_stop
  fi
fi

SECTION="$WORK/section.md"
export ENV_LINE LOAD_BEFORE LOAD_AFTER SHAPED_NOTE TOTAL_BYTES
python3 - "$RESULTS" "$SECTION" <<'EOF'
import collections, datetime, os, statistics, subprocess, sys
env = os.environ
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = collections.OrderedDict()
for name, secs, user, sys_, rss in rows:
    by.setdefault(name, []).append((float(secs), float(user) + float(sys_), int(rss)))
total = int(env["TOTAL_BYTES"])
gib = total / 2**30
def med(xs): return statistics.median(xs)
out = []
out.append("## Multipart verification: what checking every shard against its ETag costs")
out.append("")
out.append(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC with `benchmarks/s3-verify-cost.sh` "
           f"({env['ENV_LINE']}), on {os.cpu_count()} cores; load average {env['LOAD_BEFORE']} before the loopback rounds, "
           f"{env['LOAD_AFTER']} after. A {gib:.2f} GiB model uploaded with the AWS CLI in 8 MiB parts (every shard a "
           "multipart object) from S3Proxy, downloaded by `ModelCache.ensure` (`S3Download cache`): *baseline* is the "
           "engine before multipart ETags were checked (multipart shards verified per block only, in four parallel "
           "streams), *current* checks every shard against its ETag (the MD5 of its parts' MD5s, S3Proxy giving no part "
           "size, so inferred), which reads each shard back in order. Engines alternated in the same run, each round "
           "against the same warm server.")
out.append("")
out.append("| engine | link | runs | wall median (s) | wall range (s) | GiB/s | CPU user+sys median (s) | CPU s per GiB | peak RSS median (MiB) |")
out.append("|---|---|---|---|---|---|---|---|---|")
for name, vals in by.items():
    engine, _, link = name.partition("@")
    walls = [v[0] for v in vals]; cpus = [v[1] for v in vals]; rss = [v[2] for v in vals]
    out.append(f"| {engine} | {link or 'loopback'} | {len(vals)} | {med(walls):.2f} | {min(walls):.2f}-{max(walls):.2f} | "
               f"{gib / med(walls):.2f} | {med(cpus):.1f} | {med(cpus) / gib:.2f} | {med(rss) / 1024:.0f} |")
for link in ("", "1gbit"):
    b = by.get("baseline" + ("@" + link if link else "")); c = by.get("current" + ("@" + link if link else ""))
    if b and c:
        ratio = med([v[0] for v in c]) / med([v[0] for v in b])
        cpu = med([v[1] for v in c]) / med([v[1] for v in b])
        where = "behind the shaped link" if link else "on loopback"
        out.append("")
        out.append(f"{where.capitalize()}: the current engine's median wall time is {ratio:.2f}x the baseline's, its CPU {cpu:.2f}x.")
if env.get("SHAPED_NOTE"):
    out.append("")
    out.append(f"Shaped link: {env['SHAPED_NOTE']}.")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF
if [ "$WRITE_RESULTS" = 1 ]; then
  python3 - "$ROOT_DIR/benchmarks/RESULTS.md" "$SECTION" <<'EOF'
import sys, re
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
head = "## Multipart verification"
start = text.find(head)
if start >= 0:
    nxt = text.find("\n## ", start + len(head))
    text = text[:start] + section + (text[nxt + 1:] if nxt >= 0 else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
EOF
  log "wrote the Multipart verification section of benchmarks/RESULTS.md"
fi
