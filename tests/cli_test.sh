#!/usr/bin/env bash
# cli_test.sh - checks of the thermo command line: help, exit statuses,
# messages that name the offending option, no nan in any output, and results
# that depend on the seed but not on the number of threads.
#
# usage: tests/cli_test.sh path/to/thermo
# Each check prints "ok" or "FAIL" with the output that made it fail; the last
# line counts them and the exit status is non-zero when any check failed.
set -u

THERMO=${1:?usage: cli_test.sh path/to/thermo}
if [ ! -x "$THERMO" ]; then
    echo "cli: '$THERMO' is not an executable"
    exit 2
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# Runs thermo with the given arguments: stdout in $TMP/out, stderr in
# $TMP/err, exit status in $status.
run() {
    "$THERMO" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
}

ok() {
    echo "ok   $1"
    passed=$((passed + 1))
}

# Shows what the last run printed, so that a failure explains itself.
fail() {
    echo "FAIL $1: $2"
    sed -e 's/^/    out| /' "$TMP/out" | head -20
    sed -e 's/^/    err| /' "$TMP/err" | head -20
    failed=$((failed + 1))
}

no_nan() {
    ! grep -qi 'nan' "$TMP/out" "$TMP/err"
}

# A small run: a few units, coupled, so that the matrix product runs.
SMALL=(simulate --units 8 --steps 200 --batch 4 --quiet)

check_help() {
    local form
    for form in --help -h help; do
        run $form
        if [ $status -ne 0 ]; then fail "help ($form)" "exit status $status, expected 0"; return; fi
        if ! grep -q '^ *simulate ' "$TMP/out"; then fail "help ($form)" "simulate is not listed"; return; fi
    done
    ok "help lists simulate (--help, -h, help)"
}

check_version() {
    local form
    for form in version --version; do
        run $form
        if [ $status -ne 0 ] || ! grep -Eq '^thermo [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"; then
            fail "version ($form)" "expected a line 'thermo X.Y.Z' and status 0"
            return
        fi
    done
    ok "version prints the version"
}

check_simulate_help() {
    run simulate --help
    if [ $status -ne 0 ]; then fail "simulate --help" "exit status $status"; return; fi
    if ! grep -q -- '--dt' "$TMP/out"; then fail "simulate --help" "--dt is not listed"; return; fi
    run help simulate
    if [ $status -ne 0 ] || ! grep -q -- '--dt' "$TMP/out"; then
        fail "help simulate" "expected the options of simulate"
        return
    fi
    ok "simulate --help lists --dt"
}

check_small_run() {
    run "${SMALL[@]}"
    if [ $status -ne 0 ]; then fail "small simulate" "exit status $status"; return; fi
    if ! grep -q '^heat ' "$TMP/out"; then fail "small simulate" "no heat line"; return; fi
    if ! no_nan; then fail "small simulate" "nan in the output"; return; fi
    ok "small simulate reports heat, no nan"
}

# The progress bar is for people at a terminal; a pipe or log gets none.
check_no_bar_in_pipe() {
    run simulate --units 8 --steps 200 --batch 4
    if [ $status -ne 0 ] || [ -s "$TMP/err" ]; then
        fail "progress bar" "expected nothing on stderr when it is not a terminal"
        return
    fi
    ok "no progress bar when stderr is not a terminal"
}

# expect_usage_error NAME WORD ARGS...: thermo ARGS exits 2 and says WORD.
expect_usage_error() {
    local name=$1 word=$2
    shift 2
    run "$@"
    if [ $status -ne 2 ]; then fail "$name" "exit status $status, expected 2"; return 1; fi
    if ! grep -qF -- "$word" "$TMP/err"; then fail "$name" "the message does not name '$word'"; return 1; fi
    return 0
}

check_bad_values() {
    local args
    local -a cases=(
        "--dt abc" "--dt -1" "--dt 1e" "--dt nan" "--dt inf" "--dt 1e999"
        "--kT 0" "--mu -2" "--units 0" "--units -3" "--steps 1.5" "--batch 0x10"
        "--seed -1" "--J4 -1" "--kernel slow" "--precision f16" "--threads 0"
    )
    for args in "${cases[@]}"; do
        # shellcheck disable=SC2086  # the case is split into option and value
        expect_usage_error "simulate $args" "${args%% *}" simulate $args || return
    done
    expect_usage_error "simulate --dt ''" "--dt" simulate --dt '' || return
    expect_usage_error "simulate --dt (no value)" "--dt" simulate --dt || return
    expect_usage_error "simulate --quiet=1" "--quiet" simulate --quiet=1 || return
    ok "bad values exit 2 and name the option (${#cases[@]} + 3 cases)"
}

check_unknown() {
    expect_usage_error "unknown option" "--frobnicate" simulate --frobnicate 3 || return
    if ! grep -q -- '--help' "$TMP/err"; then fail "unknown option" "no hint to run --help"; return; fi
    expect_usage_error "unknown command" "frobnicate" frobnicate || return
    if ! grep -q -- '--help' "$TMP/err"; then fail "unknown command" "no hint to run --help"; return; fi
    expect_usage_error "stray argument" "extra" simulate extra || return
    ok "unknown option, command and argument exit 2 with a hint"
}

check_diverging() {
    run simulate --units 4 --dt 1 --J4 1 --kT 1 --steps 100 --quiet
    if [ $status -eq 0 ]; then fail "diverging run" "exit status 0"; return; fi
    if ! grep -qi 'step' "$TMP/err"; then fail "diverging run" "the message names no step"; return; fi
    if ! no_nan; then fail "diverging run" "nan in the output"; return; fi
    ok "diverging run fails, names the step, prints no nan"
}

check_preset() {
    expect_usage_error "--preset demo --units 10" "--units" simulate --preset demo --units 10 || return
    run simulate --preset demo --steps 3 --batch 2 --quiet
    if [ $status -ne 0 ]; then fail "demo preset" "exit status $status"; return; fi
    if ! grep -q '1296 units' "$TMP/out" || ! grep -q 'kT 0.1,' "$TMP/out" ||
        ! grep -q '2 trajectories x 3 steps' "$TMP/out"; then
        fail "demo preset" "expected 1296 units, kT 0.1 and the overridden steps and batch"
        return
    fi
    ok "demo preset runs; options given with it override it"
}

# The lines that hold results, without the timing and thread lines.
results() {
    grep -E '^(state|heat|check) ' "$TMP/out"
}

check_same_seed() {
    local first
    run "${SMALL[@]}" --coupling 0.5 --seed 7
    first=$(results)
    run "${SMALL[@]}" --coupling 0.5 --seed 7
    if [ -z "$first" ] || [ "$first" != "$(results)" ]; then
        fail "same seed" "two runs with seed 7 differ"
        return
    fi
    run "${SMALL[@]}" --coupling 0.5 --seed 8
    if [ "$first" = "$(results)" ]; then fail "same seed" "seeds 7 and 8 give the same results"; return; fi
    ok "same seed, same results; another seed, other results"
}

check_threads() {
    local one
    run "${SMALL[@]}" --coupling 0.5 --batch 6 --threads 1
    one=$(results)
    run "${SMALL[@]}" --coupling 0.5 --batch 6 --threads 2
    if [ -z "$one" ] || [ "$one" != "$(results)" ]; then
        fail "threads" "--threads 1 and --threads 2 differ"
        return
    fi
    ok "--threads 1 and --threads 2 give identical results"
}

# thermo data: help, a good folder, and bad inputs each rejected with a
# non-zero exit and a message naming the file, never a crash.
check_data() {
    run data --help
    if [ $status -ne 0 ]; then fail "data --help" "exit status $status"; return; fi
    run data info --data data/prl2026
    if [ $status -ne 0 ] || ! grep -q '3' "$TMP/out"; then
        fail "data info" "the embedded digits were not described"; return
    fi
    run data info --data "$TMP/nonexistent"
    if [ $status -ne 1 ] || ! grep -q 'nonexistent' "$TMP/err"; then
        fail "data info (missing folder)" "expected exit 1 naming the folder"; return
    fi
    mkdir -p "$TMP/bad"
    head -c 100 data/prl2026/train-images-idx3-ubyte > "$TMP/bad/train-images-idx3-ubyte"
    cp data/prl2026/train-labels-idx1-ubyte "$TMP/bad/"
    run data info --data "$TMP/bad"
    if [ $status -ne 1 ] || ! grep -q 'train-images-idx3-ubyte' "$TMP/err"; then
        fail "data info (truncated images)" "expected exit 1 naming the file"; return
    fi
    rm "$TMP/bad/train-images-idx3-ubyte"
    mkdir "$TMP/bad/train-images-idx3-ubyte"
    run data info --data "$TMP/bad"
    if [ $status -ne 1 ] || ! grep -q 'director' "$TMP/err"; then
        fail "data info (directory for a file)" "expected exit 1 saying it is a directory"; return
    fi
    run data info --split test
    if [ $status -ne 2 ]; then fail "data info --split test" "expected exit 2"; return; fi
    ok "data: help, info, and bad folders rejected with a message"
}

check_help
check_version
check_simulate_help
check_small_run
check_no_bar_in_pipe
check_bad_values
check_unknown
check_diverging
check_preset
check_same_seed
check_threads
check_data

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
