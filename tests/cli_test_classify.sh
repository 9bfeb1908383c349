#!/usr/bin/env bash
# cli_test_classify.sh - checks of thermo classify (the PNAS 2026 student):
# help, rejected command lines and files with messages that name the
# problem, and, when MNIST is present in data/mnist, a tiny train-then-eval
# run from a one-epoch teacher whose report has no nan and whose JSON holds
# the accuracies and the heat.
#
# usage: tests/cli_test_classify.sh path/to/thermo
set -u

CLI_NAME=cli_classify
. "$(dirname "$0")/cli_common.sh"
DATA=data/mnist

check_help() {
    run classify --help
    if [ $status -ne 0 ] || ! grep -q 'train' "$TMP/out"; then
        fail "classify --help" "expected status 0 and the subcommands"; return
    fi
    run classify
    if [ $status -ne 2 ]; then fail "classify (nothing)" "status $status, expected 2"; return; fi
    run classify train --help
    if [ $status -ne 0 ] || ! grep -q -- '--teacher' "$TMP/out"; then
        fail "classify train --help" "--teacher is not listed"; return
    fi
    run classify eval --help
    if [ $status -ne 0 ] || ! grep -q -- '--trajectories' "$TMP/out"; then
        fail "classify eval --help" "--trajectories is not listed"; return
    fi
    ok "classify, train and eval explain themselves"
}

# expect_usage NAME EXPECTED_TEXT ARGS...: exit status 2 and the text on stderr.
expect_status() {
    local want=$1 name=$2 text=$3
    shift 3
    run "$@"
    if [ $status -ne "$want" ]; then fail "$name" "status $status, expected $want"; return; fi
    if ! grep -qi -- "$text" "$TMP/err"; then fail "$name" "stderr does not say '$text'"; return; fi
    ok "$name"
}

check_bad_lines() {
    expect_status 2 "unknown subcommand" "unknown subcommand" classify fly
    expect_status 2 "train without --teacher" "--teacher" classify train --out "$TMP/s.st"
    expect_status 2 "train without --out" "--out" classify train --teacher "$TMP/t.st"
    expect_status 2 "train --epochs 0" "epochs" classify train --teacher a --out b --epochs 0
    expect_status 2 "train --tf -1" "tf" classify train --teacher a --out b --tf -1
    expect_status 2 "train --lr abc" "lr" classify train --teacher a --out b --lr abc
    expect_status 2 "judge --hidden" "teacher" classifier train --arch judge --data d --out o --hidden 8
    expect_status 2 "train --solver newton" "solver" classify train --teacher a --out b --solver newton
    expect_status 2 "train --ridge -1" "ridge" classify train --teacher a --out b --ridge -1
    expect_status 2 "train --output-temperature 0" "output-temperature" \
        classify train --teacher a --out b --output-temperature 0
    expect_status 2 "eval without --model" "--model" classify eval
    expect_status 2 "eval --trajectories 0" "trajectories" classify eval --model m --trajectories 0
    expect_status 2 "eval --seed -3" "seed" classify eval --model m --seed -3
    expect_status 1 "train with a missing teacher" "$TMP/none.st" \
        classify train --teacher "$TMP/none.st" --out "$TMP/s.st"
    expect_status 1 "eval with a missing model" "$TMP/none.st" classify eval --model "$TMP/none.st"
    printf 'not a safetensors file' >"$TMP/junk.st"
    expect_status 1 "eval with a malformed model" "junk.st" classify eval --model "$TMP/junk.st"
    : >"$TMP/a-file"
    expect_status 1 "train into a folder that cannot be made" "$TMP/a-file/such" \
        classify train --teacher "$TMP/t.st" --out "$TMP/a-file/such/s.st"
}

check_tiny_run() {
    if [ ! -f "$DATA/train-images-idx3-ubyte" ] && [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
        echo "skip tiny train-then-eval run: no MNIST in $DATA"
        return
    fi
    run classifier train --data "$DATA" --arch teacher --epochs 1 --limit 300 --out "$TMP/t.st" --quiet
    if [ $status -ne 0 ]; then fail "tiny teacher" "status $status"; return; fi
    # --hidden widens the teacher; the file says so
    run classifier train --data "$DATA" --arch teacher --hidden 6 --epochs 1 --limit 100 \
        --out "$TMP/t6.st" --quiet
    if [ $status -ne 0 ] || ! grep -aq '"shape":\[6,784\]' "$TMP/t6.st" ||
       ! grep -aq '"shape":\[6,6\]' "$TMP/t6.st"; then
        fail "teacher --hidden 6" "status $status, or the file does not hold 6-unit layers"; return
    fi
    ok "classifier train --arch teacher --hidden 6 widens both hidden layers"
    # A teacher file is not a student.
    run classify eval --model "$TMP/t.st" --data "$DATA" --limit 5
    if [ $status -ne 1 ] || ! grep -q 't.st' "$TMP/err"; then
        fail "eval of a teacher file" "expected status 1 naming the file"; return
    fi
    ok "eval of a teacher file is refused, naming the file"
    run classify train --teacher "$TMP/t.st" --out "$TMP/sa.st" --data "$DATA" --limit 300 \
        --solver adam --batch 50 --hidden 8 --quiet
    if [ $status -ne 0 ] || ! no_nan || [ ! -f "$TMP/sa.st" ] || ! grep -q '^epoch 1' "$TMP/out"; then
        fail "tiny classify train --solver adam" "status $status, nan, no model or no epoch line"
        return
    fi
    ok "tiny classify train --solver adam writes a student"
    run classify train --teacher "$TMP/t.st" --out "$TMP/s.st" --data "$DATA" --limit 300 \
        --hidden 8 --quiet
    if [ $status -ne 0 ] || ! no_nan || [ ! -f "$TMP/s.st" ]; then
        fail "tiny classify train" "status $status, or nan, or no model file"; return
    fi
    # The exact solve reports its objective at zero and at the minimiser.
    exact=$(sed -n 's/.*, \([0-9.]*\) at the minimiser/\1/p' "$TMP/out")
    if [ -z "$exact" ] || grep -q 'NOT converged' "$TMP/out"; then
        fail "tiny classify train (exact)" "no converged minimiser reported"; return
    fi
    ok "tiny classify train (exact) converges and writes a student"
    # The same seed gives the same student for any number of threads.
    OMP_NUM_THREADS=1 "$THERMO" classify train --teacher "$TMP/t.st" --out "$TMP/s1.st" \
        --data "$DATA" --limit 300 --hidden 8 --quiet >/dev/null 2>&1
    if ! cmp -s "$TMP/s.st" "$TMP/s1.st"; then
        fail "exact train thread independence" "1 and 2 threads give different files"; return
    fi
    ok "exact training gives the same student for 1 and 2 threads"
    run classify eval --model "$TMP/s.st" --data "$DATA" --limit 40 --trajectories 3 \
        --json "$TMP/r.json" --quiet
    if [ $status -ne 0 ] || ! no_nan || ! grep -q '^accuracy' "$TMP/out" ||
       ! grep -q '^heat' "$TMP/out"; then
        fail "tiny classify eval" "status $status, nan, or no accuracy/heat line"; return
    fi
    if ! grep -q '"top2"' "$TMP/r.json" || ! grep -q '"heat_per_classification_kT"' "$TMP/r.json"; then
        fail "tiny classify eval JSON" "top2 or heat_per_classification_kT missing"; return
    fi
    ok "tiny classify eval reports accuracy and heat, JSON included, no nan"
    # The same seed gives the same report for any number of threads.
    OMP_NUM_THREADS=1 "$THERMO" classify eval --model "$TMP/s.st" --data "$DATA" --limit 40 \
        --trajectories 3 --quiet 2>/dev/null | grep -E '^(accuracy|single|heat)' >"$TMP/a1"
    OMP_NUM_THREADS=2 "$THERMO" classify eval --model "$TMP/s.st" --data "$DATA" --limit 40 \
        --trajectories 3 --quiet 2>/dev/null | grep -E '^(accuracy|single|heat)' >"$TMP/a2"
    if [ ! -s "$TMP/a1" ] || ! cmp -s "$TMP/a1" "$TMP/a2"; then
        fail "eval thread independence" "1 and 2 threads differ"; return
    fi
    ok "eval gives the same numbers for 1 and 2 threads"
    # thermo energy keeps the books of a classifier: per classification, the
    # teacher's forward pass as line (a), the ratio, and its JSON.
    run energy --model "$TMP/s.st" --data "$DATA" --samples 30 --trajectories 4 \
        --json "$TMP/e.json" --histogram "$TMP/e.png" --quiet
    if [ $status -ne 0 ] || ! no_nan || ! grep -q 'thermodynamic classifier' "$TMP/out" ||
       ! grep -q 'forward pass' "$TMP/out" || ! grep -q '^ours' "$TMP/out" ||
       [ ! -s "$TMP/e.png" ]; then
        fail "energy of a classifier" "status $status, nan, or a missing line or histogram"
        return
    fi
    if ! grep -q '"kind":[[:space:]]*"classifier"' "$TMP/e.json" ||
       ! grep -q '"per_trajectory_kT"' "$TMP/e.json"; then
        fail "energy of a classifier (JSON)" "kind or per_trajectory_kT missing"; return
    fi
    # the heat per classification is 4 trajectories' worth of the eval's per-trajectory heat
    run classify eval --model "$TMP/s.st" --data "$DATA" --limit 30 --trajectories 4 --quiet
    per_traj=$(sed -n 's/^heat *\([0-9.e+-]*\) kT per trajectory.*/\1/p' "$TMP/out")
    per_class=$(sed -n 's/.*"mean_kT":[[:space:]]*\([0-9.e+-]*\).*/\1/p' "$TMP/e.json" | head -1)
    if [ -z "$per_traj" ] || [ -z "$per_class" ] ||
       ! awk -v a="$per_traj" -v b="$per_class" 'BEGIN { r = b / (4 * a); exit !(r > 0.999 && r < 1.001) }'; then
        fail "energy of a classifier (heat)" "per classification $per_class is not 4 x $per_traj"
        return
    fi
    ok "thermo energy keeps the books of a classifier, per classification of 4 trajectories"
}

check_help
check_bad_lines
check_tiny_run
cli_summary
