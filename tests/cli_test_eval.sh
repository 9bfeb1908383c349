#!/usr/bin/env bash
# cli_test_eval.sh - thermo eval end to end on a few embedded digits: a judge
# trained for one epoch, samples from a short training run, the report and
# its JSON, and bad inputs named in the messages.
#
# usage: tests/cli_test_eval.sh path/to/thermo
set -u
CLI_NAME=cli-eval
. "$(dirname "$0")/cli_common.sh"

DATA="$(dirname "$0")/../data/prl2026"

# A folder with the three embedded digits as both splits (the judge and the
# metrics need a training and a test split; this is a plumbing check, not a
# measurement).
make_folder() {
    mkdir -p "$TMP/d"
    cp "$DATA/train-images-idx3-ubyte" "$TMP/d/train-images-idx3-ubyte"
    cp "$DATA/train-labels-idx1-ubyte" "$TMP/d/train-labels-idx1-ubyte"
    cp "$DATA/train-images-idx3-ubyte" "$TMP/d/t10k-images-idx3-ubyte"
    cp "$DATA/train-labels-idx1-ubyte" "$TMP/d/t10k-labels-idx1-ubyte"
}

check_eval() {
    make_folder
    run classifier train --arch judge --data "$TMP/d" --epochs 1 --out "$TMP/judge.safetensors"
    if [ $status -ne 0 ]; then fail "classifier train --arch judge" "exit status $status"; return; fi
    run classifier train --arch judge-mlp --data "$TMP/d" --epochs 1 --out "$TMP/mlp.safetensors"
    if [ $status -ne 0 ]; then fail "classifier train --arch judge-mlp" "exit status $status"; return; fi
    run classifier eval --model "$TMP/judge.safetensors" --data "$TMP/d"
    if [ $status -ne 0 ] || ! grep -q 'conv 5x5x32 pool' "$TMP/out"; then
        fail "classifier eval (the convolutional judge)" "exit status $status or no description"; return
    fi
    run train --preset prl2026 --updates 2 --t-f 0.05 --samples 20 --out "$TMP/run" --quiet
    if [ $status -ne 0 ]; then fail "train (samples for eval)" "exit status $status"; return; fi
    run eval --samples "$TMP/run/samples.safetensors" --judge "$TMP/judge.safetensors" \
        --mlp-judge "$TMP/mlp.safetensors" --data "$TMP/d" --json "$TMP/eval.json" --quiet
    if [ $status -ne 0 ]; then fail "eval" "exit status $status"; return; fi
    for line in '^frechet ' '^nearest ' '^judged ' '^heat ' '^judge .*% on the real' \
        '^mlp judge .*% on the real' '^verdicts ' '^diversity ' '^inverted '; do
        if ! grep -q "$line" "$TMP/out"; then fail "eval" "no line matching $line"; return; fi
    done
    if ! no_nan; then fail "eval" "nan in the report"; return; fi
    if ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["samples"] == 20 and "floor" in d["frechet"] and "agreement" in d["mlp_judge"] and "real_training_images" in d["diversity"]' "$TMP/eval.json"; then
        fail "eval --json" "the JSON does not parse or lacks its fields"; return
    fi
    # without --mlp-judge (and no default for a folder) the report says so
    run eval --samples "$TMP/run/samples.safetensors" --judge "$TMP/judge.safetensors" \
        --data "$TMP/d" --quiet
    if [ $status -ne 0 ] || ! grep -q '^mlp judge none' "$TMP/out"; then
        fail "eval without an mlp judge" "exit status $status or no 'mlp judge none' line"; return
    fi
    ok "eval: report with both judges, diversity and inversion, JSON with 20 samples and the Frechet floor"
}

check_eval_bad_inputs() {
    run eval --samples "$TMP/none.safetensors" --judge "$TMP/judge.safetensors" --data "$TMP/d" --quiet
    if [ $status -ne 1 ] || ! grep -q 'none.safetensors' "$TMP/err"; then
        fail "eval (missing samples)" "expected exit 1 naming the file"; return
    fi
    run eval --samples "$TMP/run/samples.safetensors" --judge "$TMP/run/model.safetensors" --data "$TMP/d" --quiet
    if [ $status -ne 1 ] || ! grep -q 'model.safetensors' "$TMP/err"; then
        fail "eval (a generator as judge)" "expected exit 1 naming the file"; return
    fi
    run eval --samples "$TMP/run/samples.safetensors" --judge "$TMP/judge.safetensors" --data "$TMP/nowhere" --quiet
    if [ $status -ne 1 ] || ! grep -q 'nowhere' "$TMP/err"; then
        fail "eval (missing data)" "expected exit 1 naming the folder"; return
    fi
    run eval --judge "$TMP/judge.safetensors"
    if [ $status -ne 2 ] || ! grep -q -- '--samples' "$TMP/err"; then
        fail "eval without --samples" "expected a usage error naming --samples"; return
    fi
    run eval --samples "$TMP/run/samples.safetensors" --data "$TMP/d" --quiet
    if [ $status -ne 2 ] || ! grep -q -- '--judge' "$TMP/err"; then
        fail "eval --data DIR without --judge" "expected a usage error naming --judge"; return
    fi
    run eval --samples "$TMP/run/samples.safetensors" --judge "$TMP/judge.safetensors" \
        --mlp-judge "$TMP/run/model.safetensors" --data "$TMP/d" --quiet
    if [ $status -ne 1 ] || ! grep -q 'model.safetensors' "$TMP/err"; then
        fail "eval (a generator as mlp judge)" "expected exit 1 naming the file"; return
    fi
    ok "eval: missing files, a generator as judge and a missing folder rejected by name"
}

check_eval
check_eval_bad_inputs
cli_summary
