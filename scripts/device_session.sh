#!/usr/bin/env bash
# The whole GPU session in one command (issue 16), for a GPU machine with no network:
#   1. install what its Python lacks from wheels carried in .whl/ (no index), and snntrain itself;
#   2. the CUDA-marked tests (pytest -m cuda tests/cuda), beside
#   3. short end-to-end CLI runs on CUDA (digits; CIFAR-shaped synthetic data with model=resnet19
#      and each method; HM2-BP; AMP + channels_last; recompute), each writing metrics.json;
#   4. then, alone on the GPU so that its timings are clean, scripts/device_check.sh.
# Logs, metrics and JSON land in outputs/device-session/; summary.md and results.tar.gz (all of it)
# are copied to $OUT when it is set (the device tool's folder that comes back; checkpoints are left out).
# Prepare the wheels once, on a machine with the network:
#   pip download --no-deps -d .whl hydra-core==1.3.8 omegaconf==2.3.1 importRosbag tonic spikingjelly snntorch loguru
#   pip wheel --no-deps -w .whl antlr4-python3-runtime==4.9.3
# Usage (device tool): bash scripts/device_session.sh     (carry .whl)
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
RESULTS="${OUT:-}"
OUT="$ROOT/outputs/device-session"
rm -rf "$OUT"
LOGS="$OUT/session"
mkdir -p "$LOGS"
SUMMARY="$OUT/summary.md"
start=$SECONDS
note() { echo "$*" | tee -a "$SUMMARY"; }
: >"$SUMMARY"
note "# snntrain device session $(date -u +%Y-%m-%dT%H:%M:%SZ)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$SUMMARY" 2>&1

# 1. install
if [ -d .whl ]; then
  "$PYTHON" -m pip install -q --no-index --no-deps .whl/*.whl >"$LOGS/pip.log" 2>&1 || note "pip install of .whl failed (see session/pip.log)"
fi
"$PYTHON" -m pip install -q --no-index --no-deps --no-build-isolation -e . >>"$LOGS/pip.log" 2>&1 || note "pip install -e . failed (see session/pip.log)"
if ! "$PYTHON" -c "import snntrain.configs" 2>/dev/null; then  # no editable install: run from the tree
  note "snntrain is not installed; running from the tree (PYTHONPATH, snntrain/configs -> configs)"
  [ -e snntrain/configs ] || ln -s ../configs snntrain/configs
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PYTHON" - >>"$SUMMARY" 2>&1 <<'PY'
import torch, triton
from snntrain.core.registry import register_schemas; register_schemas()
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), triton {triton.__version__}, {torch.cuda.get_device_name()}")
PY
note "install: $(( SECONDS - start )) s"

# 2 + 3. tests and end-to-end runs, side by side
unset TRITON_INTERPRET
( timeout 270 "$PYTHON" -m pytest -m cuda tests/cuda -q -p no:cacheprovider --junitxml="$LOGS/cuda-tests.xml" >"$LOGS/cuda-tests.log" 2>&1; echo $? >"$LOGS/cuda-tests.rc" ) &
tests_pid=$!

cli() {  # name, overrides...
  local name=$1; shift
  local dir="$OUT/runs/$name"
  local t0=$SECONDS
  if (( SECONDS - start > ${CLI_DEADLINE:-270} )); then
    echo "| $name | - | - | not run: the time for CLI runs is spent | $* |" >>"$LOGS/cli.md"
    return
  fi
  timeout 120 "$PYTHON" -m snntrain trainer.device=cuda trainer.progress=false "hydra.run.dir=$dir" "$@" >"$LOGS/cli-$name.log" 2>&1
  local rc=$?
  local figures
  figures=$("$PYTHON" -c "import json,sys; m=json.load(open(sys.argv[1])); print(f\"test_acc {m['test_acc']:.3f}, {m['train_samples_per_s']:.0f} samples/s, peak {m['peak_mem_bytes']/2**30:.2f} GiB, {m['time_per_epoch_s']:.1f} s/epoch\")" "$dir/metrics.json" 2>/dev/null || echo "no metrics.json")
  echo "| $name | $rc | $(( SECONDS - t0 )) s | $figures | $* |" >>"$LOGS/cli.md"
}
CIFAR="dataset=synthetic dataset.input_shape=[3,32,32] dataset.train_size=1280 dataset.test_size=256 dataset.batch_size=64 model=resnet19 T=4 trainer.max_epochs=1"
(
  echo "| run | exit | wall | metrics.json | overrides |" >"$LOGS/cli.md"
  echo "|---|---|---|---|---|" >>"$LOGS/cli.md"
  cli digits trainer.max_epochs=3
  for m in bptt ratebp onestep; do cli "resnet19-$m" $CIFAR "method=$m"; done
  cli resnet19-bptt-bf16-channels-last $CIFAR method=bptt trainer.precision=bf16 trainer.channels_last=true
  cli resnet19-bptt-fp16 $CIFAR method=bptt trainer.precision=16
  cli resnet19-bptt-recompute $CIFAR method=bptt compression=bitpack compression.recompute=true
  cli resnet19-ratebp-hosvd $CIFAR method=ratebp compression=hosvd
  cli hm2bp-digits method=hm2bp trainer.max_epochs=2
  cli hm2bp-cnn-cifar-shaped experiment=hm2bp_mnist_cnn dataset=synthetic "dataset.input_shape=[3,32,32]" dataset.train_size=256 dataset.test_size=64 T=100 trainer.max_epochs=1
) &
cli_pid=$!
wait $tests_pid $cli_pid
note ""
note "## CUDA tests (pytest -m cuda tests/cuda): exit $(cat "$LOGS/cuda-tests.rc")"
tail -n 25 "$LOGS/cuda-tests.log" >>"$SUMMARY"
note ""
note "## End-to-end CLI runs on CUDA"
cat "$LOGS/cli.md" >>"$SUMMARY"
note "tests + CLI: $(( SECONDS - start )) s"

# 4. the device check, alone
note ""
BUDGET="${BUDGET:-250}" PIECE_LIMIT="${PIECE_LIMIT:-100}" PYTHON="$PYTHON" CHECK_LOGS="$LOGS/device-check" \
  bash scripts/device_check.sh >"$LOGS/device-check.md" 2>"$LOGS/device-check.err"
echo "device_check exit $?" >>"$LOGS/device-check.md"
cat "$LOGS/device-check.md" >>"$SUMMARY"
note "total: $(( SECONDS - start )) s"
tar -czf "$OUT/results.tar.gz" --exclude="*.pt" -C "$OUT" session runs summary.md 2>/dev/null
if [ -n "$RESULTS" ]; then cp "$SUMMARY" "$OUT/results.tar.gz" "$RESULTS/"; fi
exit 0
