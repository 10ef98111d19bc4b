#!/usr/bin/env bash
# Runs the CPU benchmarks behind docs/benchmarks.md and writes their raw results to a folder:
#   cli.jsonl   one `jmamba bench --json` object per line (decode, prefill, train; every dtype/thread count;
#               batch-1 decode with --phases)
#   bandwidth.jsonl  BANDWIDTH_ROUNDS (default 4) rounds of batch-1 decode on 2 threads for each dtype,
#               8 repetitions each, every one with its own probe reading (one process per run);
#               bandwidth-runs.md: BenchPlots' table of them, a row per run
#   scan.json   JMH ScanBench (recurrent scan time per token for L = 1K .. 1M)
#   gc.txt      JMH DecodeBench with the GC profiler (bytes allocated per decode step)
#   accuracy.txt  org.jmamba.perf.WeightTypeAccuracy: bf16/int8 against f32 on a random 130m model
# then draws the plots (PNG) into docs/ with org.jmamba.bench.BenchPlots.
#
# Usage: mamba-bench/scripts/cpu-benchmarks.sh OUT_DIR [JAVA]
# Build first:  mvn -B -q -pl mamba-bench,mamba-examples -am package -DskipTests
# (with -Djmamba.target=DIR, set JMAMBA_TARGET=DIR here too). SKIP_SCAN=1 leaves out the JMH scan
# benchmark (the longest part; the scan plot is then not redrawn).
set -euo pipefail
out=${1:?usage: cpu-benchmarks.sh OUT_DIR [JAVA]}
java=${2:-java}
target=${JMAMBA_TARGET:-target}
root=$(cd "$(dirname "$0")/../.." && pwd)
cli="$root/mamba-examples/$target/jmamba.jar"
bench="$root/mamba-bench/$target/benchmarks.jar"
mkdir -p "$out"
flags=(--add-modules=jdk.incubator.vector -Xmx8g)
run() { "$java" "${flags[@]}" -jar "$cli" bench --json "$@" >>"$out/cli.jsonl"; }

lscpu >"$out/lscpu.txt"
: >"$out/cli.jsonl"
for threads in 2 1; do
  for dtype in f32 bf16 int8; do
    # --phases: where the step's time goes (the "phases" object), recorded after the timed runs
    run --shape 130m --mode decode --dtype "$dtype" --threads "$threads" --batch 1 --tokens 32 --repeat 5 --phases
  done
done
for dtype in f32 bf16 int8; do
  run --shape 130m --mode decode --dtype "$dtype" --threads 2 --batch 8 --tokens 16 --repeat 3
done
for len in 512 2048; do
  for dtype in f32 bf16 int8; do
    run --shape 130m --mode prefill --dtype "$dtype" --threads 2 --len "$len" --repeat 3
  done
done
for dtype in f32 bf16 int8; do
  run --shape 130m --mode prefill --dtype "$dtype" --threads 1 --len 512 --repeat 3
done
run --shape small --mode train --threads 2 --batch 8 --len 256 --repeat 3
run --shape small --mode train --threads 1 --batch 8 --len 256 --repeat 3

# Decode, run after run: each process gets its own memory, and its speed with it (docs/benchmarks.md,
# "From one process to the next"); the dtypes take turns within each round.
: >"$out/bandwidth.jsonl"
for ((round = 0; round < ${BANDWIDTH_ROUNDS:-4}; round++)); do
  for dtype in f32 bf16 int8; do
    "$java" "${flags[@]}" -jar "$cli" bench --json --shape 130m --mode decode --dtype "$dtype" --threads 2 \
      --batch 1 --tokens 32 --repeat 8 >>"$out/bandwidth.jsonl"
  done
done

"$java" --add-modules=jdk.incubator.vector -Xmx8g -cp "$cli" org.jmamba.perf.WeightTypeAccuracy >"$out/accuracy.txt" 2>&1
if [ "${SKIP_SCAN:-0}" != 1 ]; then
  "$java" --add-modules=jdk.incubator.vector -jar "$bench" ScanBench -rf json -rff "$out/scan.json" >"$out/scan.txt" 2>&1
fi
"$java" --add-modules=jdk.incubator.vector -jar "$bench" DecodeBench -p batch=1 -wi 2 -i 3 -prof gc >"$out/gc.txt" 2>&1
"$java" --add-modules=jdk.incubator.vector -jar "$bench" DecodeBench -p shape=tiny -p batch=1,8 -wi 3 -i 3 -prof gc >"$out/gc-tiny.txt" 2>&1

"$java" -Djava.awt.headless=true -cp "$bench" org.jmamba.bench.BenchPlots "$out" "$root/docs"
