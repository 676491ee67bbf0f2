#!/usr/bin/env bash
# webrnn's GPU run kit: runs the benchmark (kit.mjs, bench/kit.ts bundled) on a bare x86-64 Linux
# machine with a GPU, with no Node.js, no npm and no network. `npm run gpu-kit` writes this folder.
#
#   ./run.sh [kit.mjs flags: --quick, --budget-s N, --sections a,b]
#
# The H200 plan (a session has 15 minutes of device time, at most 10 a command; bench/RESULTS.md):
#   1. KIT_WORK=/tmp/webrnn-kit bash run.sh
#        issue 14's sections (info … toggles), about 6 minutes
#   2. KIT_WORK=/tmp/webrnn-kit OUT=$OUT/training bash run.sh --sections train,per-series,forecast --budget-s 240
#        issue 18's: training against PyTorch cuDNN, per-series models, the forecasting job per
#        phase; about 5 minutes
# Each stops starting workloads at its budget (in-flight ones finish), so each fits a 10-minute
# call with room; KIT_WORK outside the kit keeps the unpacked files from one call to the next.
#
# Results go to $OUT (default ./out): results.json (adapter, limits, features, ceilings, every
# record), log.txt (everything printed), env.txt (the driver, the GPU, python3's torch).
# It needs bash, python3 (its standard library unpacks node, Dawn and the Vulkan loader: no xz or
# dpkg needed) and a Vulkan driver. Safe to run again: unpacking is skipped when done.
#
# Environment:
#   VK_DRIVER_FILES / VK_ICD_FILENAMES  the Vulkan driver's ICD JSON (default: NVIDIA's, where found)
#   WEBRNN_DAWN_FLAGS     Dawn toggles (default: f16 on NVIDIA, unquantized timestamps)
#   WEBRNN_BENCH_PYTHON   the python3 with PyTorch for the cuDNN contender (default: python3 on PATH)
#   KIT_WORK              where to unpack (default: ./.unpacked beside this script)
set -euo pipefail

kit="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$kit/out}"
work="${KIT_WORK:-$kit/.unpacked}"
mkdir -p "$out"

python3 "$kit/unpack.py" "$kit" "$work"

# The kit's own Vulkan loader (the machine may have none).
vulkan_lib="$work/vulkan/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$vulkan_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The GPU's Vulkan driver: NVIDIA's ICD JSON where it is, unless one is named already.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$f" ]; then
      export VK_DRIVER_FILES="$f"
      break
    fi
  done
fi
# NVIDIA's ICD names its library (libGLX_nvidia.so.0) without a path: make its folder findable.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu/nvidia; do
  if [ -d "$d" ]; then export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"; fi
done

export WEBRNN_DAWN_FLAGS="${WEBRNN_DAWN_FLAGS-enable-dawn-features=vulkan_enable_f16_on_nvidia,disable-dawn-features=timestamp_quantization}"
export WEBRNN_BENCH_PYTHON="${WEBRNN_BENCH_PYTHON:-$(command -v python3)}"
export WEBRNN_TORCH_PEER_SCRIPT="$kit/torch_peer.py"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "kernel: $(uname -srm)"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "WEBRNN_DAWN_FLAGS=$WEBRNN_DAWN_FLAGS"
  echo "python: $WEBRNN_BENCH_PYTHON"
  "$WEBRNN_BENCH_PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "cudnn", torch.backends.cudnn.version())' 2>&1 || true
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi 2>&1 || true; else echo "nvidia-smi: not found"; fi
} > "$out/env.txt"
cat "$out/env.txt"

set +e
# The forecasting job holds 100,000 series and their windows: more heap than Node's default.
"$work/node" --max-old-space-size=16384 "$work/kit.mjs" --out "$out" "$@" 2>&1 | tee "$out/log.txt"
status=${PIPESTATUS[0]}
echo "kit: exit $status; results in $out" | tee -a "$out/log.txt"
exit "$status"
