#!/usr/bin/env bash
# cli_test_linalg.sh - checks of thermo linalg: help, each algorithm on a
# small matrix against LAPACK (the tool's own comparison, checked here to be
# small), the files it writes, clear messages for bad input, and results that
# depend on the seed but not on the number of threads.
#
# usage: tests/cli_test_linalg.sh path/to/thermo
set -u

CLI_NAME=cli_linalg
. "$(dirname "$0")/cli_common.sh"

# A 4 x 4 diagonally dominant M-matrix (realisable as it stands), a
# right-hand side, a non-symmetric stable drift, and a matrix no capacitor
# network realises.
cat >"$TMP/A.mtx" <<'MTX'
%%MatrixMarket matrix coordinate real symmetric
4 4 7
1 1 3.0
2 1 -1.0
2 2 2.5
3 2 -0.8
3 3 2.0
4 3 -0.5
4 4 1.5
MTX
printf '%%%%MatrixMarket matrix array real general\n4 1\n1\n-0.5\n0.25\n2\n' >"$TMP/b.mtx"
printf '%%%%MatrixMarket matrix array real general\n2 2\n1\n-2\n3\n4\n' >"$TMP/N.mtx"
# Positive definite (eigenvalues 0.1, 0.7, 0.7, 2.5) but its comparison
# matrix has eigenvalue -0.5: no positive scaling makes it dominant.
printf '%%%%MatrixMarket matrix array real symmetric\n4 4\n1\n-0.6\n0.3\n-0.6\n1\n-0.6\n0.3\n1\n-0.6\n1\n' \
    >"$TMP/bad.mtx"

# The error column of the final line of error.csv, as a number awk compares.
last_error() {
    tail -n 1 "$1/error.csv" | cut -d, -f2
}

check_help() {
    run linalg --help
    if [ $status -ne 0 ] || ! grep -q -- '--mismatch' "$TMP/out" || ! grep -q '1/gamma' "$TMP/out"; then
        fail "linalg --help" "expected the options and the time units"
        return
    fi
    run help
    if ! grep -q '^ *linalg ' "$TMP/out"; then fail "help" "linalg is not listed"; return; fi
    ok "linalg --help lists the options and the time units"
}

check_algorithms() {
    local alg extra
    for alg in inv solve logdet; do
        extra=""
        [ $alg = solve ] && extra="--rhs $TMP/b.mtx"
        run linalg $alg --matrix "$TMP/A.mtx" $extra --time 4e-3 --points 3 --nodes 6 \
            --out "$TMP/$alg" --quiet
        if [ $status -ne 0 ]; then fail "linalg $alg" "exit status $status"; return; fi
        for f in estimate.mtx error.csv error.png; do
            if [ ! -s "$TMP/$alg/$f" ]; then fail "linalg $alg" "no $f"; return; fi
        done
        if [ "$(wc -l <"$TMP/$alg/error.csv")" -ne 4 ]; then
            fail "linalg $alg" "error.csv should have a header and 3 points"; return
        fi
        # The tool's error against LAPACK after 4 ms of board time: a few percent.
        if ! awk -v e="$(last_error "$TMP/$alg")" 'BEGIN { exit !(e < 0.08) }'; then
            fail "linalg $alg" "error $(last_error "$TMP/$alg") against LAPACK is too large"; return
        fi
        if ! no_nan; then fail "linalg $alg" "nan in the output"; return; fi
    done
    ok "inv, solve, logdet agree with LAPACK and write estimate.mtx, error.csv, error.png"
}

check_lyap_and_sample() {
    run linalg lyap --matrix "$TMP/N.mtx" --model overdamped --time 2000 --points 2 \
        --out "$TMP/lyap" --quiet
    if [ $status -ne 0 ]; then fail "linalg lyap" "exit status $status"; return; fi
    if ! awk -v e="$(last_error "$TMP/lyap")" 'BEGIN { exit !(e < 0.08) }'; then
        fail "linalg lyap" "error $(last_error "$TMP/lyap") too large"; return
    fi
    run linalg lyap --matrix "$TMP/N.mtx" --out "$TMP/lyap2"
    if [ $status -ne 2 ] || ! grep -q 'overdamped' "$TMP/err"; then
        fail "lyap on the RLC board" "expected status 2 naming --model overdamped"; return
    fi
    # Sample N(m, S) with S = A (its precision A^-1 has positive entries:
    # the doubled mapping realises it).
    run linalg sample --matrix "$TMP/A.mtx" --rhs "$TMP/b.mtx" --model overdamped --samples 50 \
        --time 2000 --points 2 --out "$TMP/sample" --quiet
    if [ $status -ne 0 ] || [ ! -s "$TMP/sample/samples.mtx" ]; then
        fail "linalg sample" "status $status or no samples.mtx"; return
    fi
    if ! head -3 "$TMP/sample/samples.mtx" | grep -q '^50 4$'; then
        fail "linalg sample" "samples.mtx should be 50 x 4"; return
    fi
    ok "lyap (overdamped only) and sample (samples.mtx of 50 x 4)"
}

check_floor() {
    run linalg inv --matrix "$TMP/A.mtx" --bits 2 --time 2e-3 --points 2 --out "$TMP/q"
    if [ $status -ne 0 ]; then fail "linalg --bits 2" "exit status $status"; return; fi
    if ! tail -n 1 "$TMP/q/error.csv" | awk -F, '{ exit !($4 > 0) }'; then
        fail "linalg --bits 2" "expected a positive floor in error.csv"; return
    fi
    # --bits B means B bits: 1 bit is imprecise (it once meant B - 1)
    run linalg inv --matrix "$TMP/A.mtx" --bits 1 --time 2e-3 --points 1 --out "$TMP/q1"
    if [ $status -ne 0 ] || ! tail -n 1 "$TMP/q1/error.csv" | awk -F, '{ exit !($4 > 0) }'; then
        fail "linalg --bits 1" "expected status 0 and a positive floor in error.csv"; return
    fi
    ok "2-bit and 1-bit couplings report a hardware floor"
}

check_bad_input() {
    run linalg inv --matrix "$TMP/bad.mtx" --out "$TMP/bad"
    if [ $status -ne 1 ] || ! grep -q 'not realisable' "$TMP/err" || ! grep -q 's >' "$TMP/err"; then
        fail "unrealisable matrix" "expected status 1, 'not realisable' and the shift"; return
    fi
    run linalg inv --matrix "$TMP/missing.mtx"
    if [ $status -ne 1 ] || ! grep -q 'missing.mtx' "$TMP/err"; then
        fail "missing file" "expected status 1 naming the file"; return
    fi
    run linalg invert --matrix "$TMP/A.mtx"
    if [ $status -ne 2 ] || ! grep -q "unknown algorithm 'invert'" "$TMP/err"; then
        fail "unknown algorithm" "expected status 2 naming it"; return
    fi
    run linalg solve --matrix "$TMP/A.mtx"
    if [ $status -ne 2 ] || ! grep -q -- '--rhs' "$TMP/err"; then
        fail "solve without --rhs" "expected status 2 naming --rhs"; return
    fi
    run linalg solve --matrix "$TMP/A.mtx" --rhs "$TMP/N.mtx"
    if [ $status -ne 1 ] || ! grep -q 'expected a vector of 4' "$TMP/err"; then
        fail "solve with a 2 x 2 rhs" "expected status 1 and the expected shape"; return
    fi
    run linalg inv --matrix "$TMP/A.mtx" --mismatch 0.9
    if [ $status -ne 2 ] || ! grep -q -- '--mismatch' "$TMP/err"; then
        fail "--mismatch 0.9" "expected status 2 naming --mismatch"; return
    fi
    ok "bad input: unrealisable matrix (with the shift), missing file, unknown algorithm, shapes"
}

check_threads_and_seed() {
    OMP_NUM_THREADS=1 "$THERMO" linalg inv --matrix "$TMP/A.mtx" --time 1e-3 --points 1 \
        --chains 5 --out "$TMP/t1" --quiet >/dev/null 2>&1
    OMP_NUM_THREADS=2 "$THERMO" linalg inv --matrix "$TMP/A.mtx" --time 1e-3 --points 1 \
        --chains 5 --out "$TMP/t2" --quiet >/dev/null 2>&1
    "$THERMO" linalg inv --matrix "$TMP/A.mtx" --time 1e-3 --points 1 --chains 5 --seed 9 \
        --out "$TMP/t3" --quiet >/dev/null 2>&1
    if ! cmp -s "$TMP/t1/estimate.mtx" "$TMP/t2/estimate.mtx"; then
        fail "threads" "1 and 2 threads gave different estimates"; return
    fi
    if cmp -s "$TMP/t1/estimate.mtx" "$TMP/t3/estimate.mtx"; then
        fail "seed" "seeds 1 and 9 gave the same estimate"; return
    fi
    ok "same estimate for 1 and 2 threads, another for another seed"
}

check_help
check_algorithms
check_lyap_and_sample
check_floor
check_bad_input
check_threads_and_seed
cli_summary
