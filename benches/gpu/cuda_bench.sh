#!/usr/bin/env bash
# The `cuda` feature on a GPU machine: k-means, PQ training + encoding, batched distances and a
# whole IVF-PQ build, timed on the GPU and on this machine's CPU path (AILAKE_DISABLE_CUDA=1)
# over the same data, with a check that both paths agree. Run from the repository root:
#
#   bash benches/gpu/cuda_bench.sh [DATA_DIR] [OUT_DIR]
#
# DATA_DIR holds TEXMEX files (base.fvecs, query.fvecs, gt.ivecs); default: the team's
# debian-minilm set beside the repository, else a 200k×128 Gaussian mixture made here.
# Needs the CUDA driver, cuBLAS and NVRTC at run time (loaded dynamically); without a usable
# device both runs take the CPU path and the script says so instead of claiming GPU figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${2:-target/gpu-bench}
mkdir -p "$OUT"
cargo build --release -p ailake-benches --features cuda --bin peer_bench
BIN=${CARGO_TARGET_DIR:-target}/release/peer_bench
DATA=${1:-../shared/data/debian-minilm}
if [ ! -f "$DATA/base.fvecs" ]; then
  DATA="$OUT/gmm-200k-128"
  "$BIN" data --out "$DATA" --rows 200000 --dim 128
fi
AILAKE_DISABLE_CUDA=1 "$BIN" cuda --data "$DATA" --out "$OUT/cpu.json"
"$BIN" cuda --data "$DATA" --out "$OUT/gpu.json"
python3 - "$OUT/cpu.json" "$OUT/gpu.json" <<'PY'
import json, sys
cpu, gpu = (json.load(open(p)) for p in sys.argv[1:3])
if not gpu["gpu"]:
    print("no usable CUDA device: both runs took the CPU path; no GPU figures to report")
    sys.exit(0)
print(f"{cpu['rows']}×{cpu['dim']}, nlist {cpu['nlist']}, m {cpu['m']}, {cpu['queries']} queries")
print(f"{'step':<20}{'CPU s':>10}{'GPU s':>10}{'speed-up':>10}")
for key, label in [("kmeans_s", "k-means"), ("pq_train_s", "PQ train"), ("pq_encode_s", "PQ encode"),
                   ("distances_s", "batched distances"), ("ivf_pq_build_s", "IVF-PQ build")]:
    print(f"{label:<20}{cpu[key]:>10.3f}{gpu[key]:>10.3f}{cpu[key] / gpu[key]:>9.1f}×")
same = lambda a, b: sum(x == y for x, y in zip(a, b)) / max(1, len(a))
print(f"agreement: assignments {same(cpu['assign_sample'], gpu['assign_sample']):.4f}, "
      f"PQ codes {same(cpu['codes_sample'], gpu['codes_sample']):.4f}, "
      f"largest distance difference {max((abs(x - y) for x, y in zip(cpu['distances_sample'], gpu['distances_sample'])), default=0):.2e}")
PY
