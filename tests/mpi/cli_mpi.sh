#!/usr/bin/env bash
# cli_mpi.sh - the thermo command of an MPI build (make MPI=1) under mpirun:
# every rank starts and ends MPI on every way out (a rank that leaves without
# MPI_Finalize fails the whole mpirun), a usage error ends all ranks with its
# status instead of a hang, and the same binary still runs alone, without
# mpirun, as one process.
#
# usage: MPIRUN="mpirun --oversubscribe ..." tests/mpi/cli_mpi.sh path/to/thermo
# (make test-mpi sets MPIRUN). Each run is capped by `timeout`, so that a hang
# is a failure, not a stuck CI.
set -u

CLI_NAME=cli_mpi
. "$(dirname "$0")/../cli_common.sh"
MPIRUN=${MPIRUN:-mpirun}

# mpirun -np K thermo ARGS..., outputs and status as run() leaves them.
run_np() {
    local np=$1
    shift
    # shellcheck disable=SC2086 # MPIRUN holds the launcher and its flags
    OMP_NUM_THREADS=1 timeout 120 $MPIRUN -np "$np" "$THERMO" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
}

check_version_alone() {
    run version
    if [ $status -ne 0 ]; then fail "version without mpirun" "exit status $status, expected 0"; return; fi
    if ! grep -q '^thermo ' "$TMP/out"; then fail "version without mpirun" "no version line"; return; fi
    ok "the MPI build runs alone, without mpirun"
}

check_version_two_ranks() {
    run_np 2 version
    if [ $status -ne 0 ]; then fail "mpirun -np 2 version" "exit status $status, expected 0"; return; fi
    if ! grep -q '^thermo ' "$TMP/out"; then fail "mpirun -np 2 version" "no version line"; return; fi
    ok "mpirun -np 2 thermo version starts and finalizes MPI"
}

check_usage_error_two_ranks() {
    run_np 2 no-such-command
    if [ $status -eq 0 ] || [ $status -eq 124 ]; then
        fail "mpirun -np 2 no-such-command" "exit status $status, expected a usage failure"; return
    fi
    if ! grep -q "unknown command 'no-such-command'" "$TMP/err"; then
        fail "mpirun -np 2 no-such-command" "the message does not name the command"; return
    fi
    ok "a usage error under mpirun ends every rank with its message"
}

check_simulate_two_ranks() {
    run_np 2 simulate --units 8 --steps 200 --batch 4 --quiet
    if [ $status -ne 0 ]; then fail "mpirun -np 2 simulate" "exit status $status, expected 0"; return; fi
    if ! no_nan; then fail "mpirun -np 2 simulate" "nan in the output"; return; fi
    ok "mpirun -np 2 thermo simulate (OpenMP threads inside MPI ranks)"
}

# Training under mpirun: the batch's paths are shared, rank 0 alone writes and
# prints; a run resumed (under mpirun) from its last checkpoint ends with the
# same model to the bit as the uninterrupted one.
check_train_two_ranks() {
    run_np 2 train --preset tiny --batch 3 --out "$TMP/gd" --quiet
    if [ $status -ne 0 ]; then fail "mpirun -np 2 train" "exit status $status"; return; fi
    if [ "$(grep -c '^training ' "$TMP/out")" -ne 1 ]; then
        fail "mpirun -np 2 train" "expected one report (rank 0's), got $(grep -c '^training ' "$TMP/out")"; return
    fi
    if ! no_nan || [ ! -s "$TMP/gd/model.safetensors" ] || [ ! -s "$TMP/gd/checkpoint.safetensors" ]; then
        fail "mpirun -np 2 train" "nan, or no model or checkpoint"; return
    fi
    cp "$TMP/gd/model.safetensors" "$TMP/uninterrupted.safetensors"
    run_np 2 train --preset tiny --batch 3 --out "$TMP/gd" --resume --quiet
    if [ $status -ne 0 ]; then fail "mpirun -np 2 train --resume" "exit status $status"; return; fi
    if ! cmp -s "$TMP/gd/model.safetensors" "$TMP/uninterrupted.safetensors"; then
        fail "mpirun -np 2 train --resume" "the resumed model differs from the uninterrupted one"; return
    fi
    ok "mpirun -np 2 train: one report, checkpoint, resume bit-identical"
}

# Sampling under mpirun: each rank its share, gathered; the samples file is
# identical to one process's (sample k has its own noise whichever rank runs it).
check_sample_two_ranks() {
    local model=$TMP/gd/model.safetensors
    run sample --model "$model" --n 9 --out "$TMP/one.png" --save "$TMP/one.safetensors" --quiet
    if [ $status -ne 0 ]; then fail "sample (one process)" "exit status $status"; return; fi
    run_np 2 sample --model "$model" --n 9 --out "$TMP/two.png" --save "$TMP/two.safetensors" --quiet
    if [ $status -ne 0 ]; then fail "mpirun -np 2 sample" "exit status $status"; return; fi
    if ! cmp -s "$TMP/one.safetensors" "$TMP/two.safetensors"; then
        fail "mpirun -np 2 sample" "the samples differ from one process's"; return
    fi
    ok "mpirun -np 2 sample: samples identical to one process's"
}

# The exact solver under mpirun: statistics shared, the same solve on every rank.
check_exact_two_ranks() {
    run_np 2 train --preset tiny --classes --solver exact --out "$TMP/ex" --quiet
    if [ $status -ne 0 ]; then fail "mpirun -np 2 train --solver exact" "exit status $status"; return; fi
    if grep -q 'NOT converged' "$TMP/out" || ! no_nan; then
        fail "mpirun -np 2 train --solver exact" "not converged, or nan"; return
    fi
    ok "mpirun -np 2 train --solver exact --classes"
}

# A time-dependent protocol under mpirun: the exact solver's per-segment
# statistics shared, and its samples, heat and switching work identical to
# one process's.
check_protocol_two_ranks() {
    run_np 2 train --preset tiny --solver exact --ridge 1 --segments 3 --segment-penalty 0.5 \
        --out "$TMP/seg" --quiet
    if [ $status -ne 0 ]; then fail "mpirun -np 2 train --segments 3" "exit status $status"; return; fi
    if ! grep -q '^work ' "$TMP/out" || ! no_nan; then
        fail "mpirun -np 2 train --segments 3" "no work line, or nan"; return
    fi
    local model=$TMP/seg/model.safetensors
    run sample --model "$model" --n 9 --out "$TMP/s1.png" --heat "$TMP/h1.csv" --quiet
    if [ $status -ne 0 ]; then fail "sample a protocol (one process)" "exit status $status"; return; fi
    run_np 2 sample --model "$model" --n 9 --out "$TMP/s2.png" --heat "$TMP/h2.csv" --quiet
    if [ $status -ne 0 ]; then fail "mpirun -np 2 sample a protocol" "exit status $status"; return; fi
    if ! cmp -s "$TMP/h1.csv" "$TMP/h2.csv" || ! cmp -s "$TMP/s1.png" "$TMP/s2.png"; then
        fail "mpirun -np 2 sample a protocol" "samples, heat or work differ from one process's"
        return
    fi
    ok "mpirun -np 2 train --segments 3 (exact) and sample: as one process"
}

check_version_alone
check_version_two_ranks
check_protocol_two_ranks
check_train_two_ranks
check_sample_two_ranks
check_exact_two_ranks
check_usage_error_two_ranks
check_simulate_two_ranks
cli_summary
