#!/usr/bin/env bash
# make spice-check: thermo's computers as circuits, run by ngspice and compared with
# thermo's own simulation of the same computer (docs/spice.md). Three computers:
#   - the SPU board of thermo linalg programmed with the 8 x 8 matrix of the tests;
#   - a thermodynamic neuron network from a short thermo neuron train;
#   - the tiny generator (thermo train --preset tiny: 7 x 7 pixels, 16 hidden units).
# Each netlist runs RUNS times (each ngspice process draws new noise, two at a time);
# thermo spice compare reads all the runs and prints both sides with their error bars.
# Exit status 1 when a comparison disagrees or a step fails. A few minutes on 2 cores.
# SPICE_CHECK_CHART=F.png keeps the SPU chart; SPICE_CHECK_KEEP=DIR keeps every file.
set -uo pipefail
THERMO=$(realpath "${1:-./build/thermo}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" # thermo train --preset tiny reads data/prl2026
if ! command -v ngspice >/dev/null; then
    echo "spice-check: ngspice not found (make deps installs Debian's ngspice)"
    exit 1
fi
if [ -n "${SPICE_CHECK_KEEP:-}" ]; then
    WORK=$SPICE_CHECK_KEEP
    mkdir -p "$WORK"
else
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
fi
START=$(date +%s)
FAILED=()

# run_netlist DIR RUNS: ngspice -b DIR/net.cir in DIR/run1 .. DIR/runRUNS, two at a
# time; prints the comma-separated list of the data files they wrote.
run_netlist() {
    local dir=$1 runs=$2 r list=""
    for r in $(seq 1 "$runs"); do mkdir -p "$dir/run$r"; done
    seq 1 "$runs" | xargs -P 2 -I{} sh -c \
        "cd '$dir/run{}' && ngspice -b ../net.cir > ngspice.log 2>&1 || echo 'ngspice failed in $dir/run{}'"
    for r in $(seq 1 "$runs"); do
        if [ ! -s "$dir/run$r/net.data" ]; then
            echo "spice-check: ngspice wrote no data in $dir/run$r:" >&2
            tail -n 20 "$dir/run$r/ngspice.log" >&2
            return 1
        fi
        list="$list${list:+,}$dir/run$r/net.data"
    done
    echo "$list"
}

# check NAME MODEL RUNS EXPORT_OPTIONS... : export, run, compare.
check() {
    local name=$1 model=$2 runs=$3
    shift 3
    local dir="$WORK/$name" t0 results
    t0=$(date +%s)
    mkdir -p "$dir"
    echo
    echo "== $name: $model"
    if ! "$THERMO" spice export --model "$model" --out "$dir/net.cir" --data net.data "$@"; then
        FAILED+=("$name (export)")
        return
    fi
    if ! results=$(run_netlist "$dir" "$runs"); then
        FAILED+=("$name (ngspice)")
        return
    fi
    local extra=()
    [ "$name" = spu ] && [ -n "${SPICE_CHECK_CHART:-}" ] && extra=(--chart "$SPICE_CHECK_CHART")
    if ! "$THERMO" spice compare --model "$model" --out "$dir/net.cir" --data net.data "$@" \
        --results "$results" "${extra[@]}"; then
        FAILED+=("$name")
    fi
    echo "time      $((  $(date +%s) - t0 )) s for $runs ngspice runs and the comparison"
}

echo "== models"
"$THERMO" train --preset tiny --solver exact --ridge 0.1 --samples 4 --out "$WORK/tiny" --quiet \
    > /dev/null || FAILED+=("thermo train --preset tiny")
"$THERMO" neuron train --generations 30 --population 32 --eval-replicas 64 --out "$WORK/neuron" \
    --quiet > /dev/null || FAILED+=("thermo neuron train")
echo "trained   the tiny generator (exact solver, ridge 0.1) and a neuron network (30 generations)"

# The SPU: 16 runs of 100 tau each, one copy (short runs: docs/spice.md).
check spu "$ROOT/tests/fuzz/corpus_mtx/spd8.mtx" 16
# Neurons: inputs z = 0, 0.5 and 1, 2 copies each a run, a noise step of a tenth of the
# network's dt (thermo simulates at the same step).
check neuron "$WORK/neuron/network.safetensors" 16 --inputs 0,0.5,1 --copies 2 --noise-step 0.001
# The tiny generator: 4 copies a run, noise step = its dt.
check generator "$WORK/tiny/model.safetensors" 16 --copies 4

echo
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "spice-check: FAILED: ${FAILED[*]} ($(( $(date +%s) - START )) s)"
    exit 1
fi
echo "spice-check: ngspice agrees with thermo on the SPU, the neurons and the generator ($(( $(date +%s) - START )) s)"
