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

check_version_alone
check_version_two_ranks
check_usage_error_two_ranks
check_simulate_two_ranks
cli_summary
