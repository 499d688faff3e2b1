#!/usr/bin/env bash
# The GPU check in one command: every scripts/device/<piece>.py (not _*.py) runs under its own
# time limit inside a total budget, then one combined table is printed.
#   bash scripts/device_check.sh                 # BUDGET=420 s in all, PIECE_LIMIT=240 s each
#   PYTHON=.venv/bin/python BUDGET=300 bash scripts/device_check.sh
#   CHECK_LOGS=outputs/check bash scripts/device_check.sh   # keep the pieces' logs and JSON
# A piece that is cut off or fails gets a row saying so, with the tail of its log.
# Without a GPU every piece prints 'skipped' rows and the script exits 0.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
BUDGET="${BUDGET:-420}"
PIECE_LIMIT="${PIECE_LIMIT:-240}"
OUT="${CHECK_LOGS:-$(mktemp -d)}"  # CHECK_LOGS=DIR keeps each piece's log and JSON there
mkdir -p "$OUT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
start=$SECONDS
status=0

note_row() {  # piece, note -> a JSON row in $OUT
  "$PYTHON" - "$1" "$2" "$OUT/$1.json" <<'PY'
import json, sys
piece, note, path = sys.argv[1:]
json.dump([{"piece": piece, "measurement": "-", "value": "", "unit": "", "target": "", "note": note}], open(path, "w"))
PY
}

for script in scripts/device/[!_]*.py; do
  piece="$(basename "$script" .py)"
  left=$(( BUDGET - (SECONDS - start) ))
  if (( left < 20 )); then
    note_row "$piece" "not run: the ${BUDGET}s budget is spent"
    continue
  fi
  limit=$(( left < PIECE_LIMIT ? left : PIECE_LIMIT ))
  echo "== $piece (limit ${limit}s)" >&2
  timeout --kill-after=10 "$limit" "$PYTHON" "$script" --json "$OUT/$piece.json" >"$OUT/$piece.log" 2>&1
  rc=$?
  if (( rc == 124 || rc == 137 )); then
    note_row "$piece" "cut off after ${limit}s; log tail: $(tail -n 3 "$OUT/$piece.log" | tr '\n|' ' /')"
    status=1
  elif (( rc != 0 )) || [ ! -s "$OUT/$piece.json" ]; then
    note_row "$piece" "failed (exit $rc); log tail: $(tail -n 3 "$OUT/$piece.log" | tr '\n|' ' /')"
    status=1
  fi
done

echo "## Device check $(date -u +%Y-%m-%d) on $("$PYTHON" -c 'import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA device")' 2>/dev/null) ($(( SECONDS - start ))s)"
"$PYTHON" scripts/device/_common.py combine "$OUT"
echo "(logs: $OUT)" >&2
exit $status
