#!/usr/bin/env bash
# cli_test_neuron.sh - checks of 'thermo neuron': a tiny training run writes
# the network, the GA log, the loss curve and the fit, with no nan; the same
# seed gives the same files for 1 and 2 threads; 'curve' reloads the network
# and reproduces the curve; bad settings are refused with exit status 2 and
# a message naming the option.
#
# usage: tests/cli_test_neuron.sh path/to/thermo
set -u

CLI_NAME=cli_neuron
. "$(dirname "$0")/cli_common.sh"

# Seconds, not minutes: 2 layers of 3, 4 inputs, 4 replicas, 3 generations.
TINY=(--tf 0.2 --layers 2 --width 3 --nz 4 --replicas 4 --eval-replicas 8
      --population 6 --elite 2 --generations 3 --quiet)

check_help() {
    run neuron train --help
    if [ $status -ne 0 ] || ! grep -q -- '--population' "$TMP/out" || ! grep -q 'fan-in' "$TMP/out"; then
        fail "neuron train --help" "expected the options and the GA's description"; return
    fi
    run neuron
    if [ $status -ne 2 ]; then fail "neuron (no subcommand)" "exit status $status, expected 2"; return; fi
    run help
    if ! grep -q '^ *neuron ' "$TMP/out"; then fail "help" "neuron is not listed"; return; fi
    ok "neuron: help lists the options; no subcommand is a usage error"
}

check_tiny_train() {
    local d="$TMP/t1"
    run neuron train "${TINY[@]}" --out "$d" --threads 1
    if [ $status -ne 0 ]; then fail "tiny train" "exit status $status"; return; fi
    local f
    for f in network.safetensors ga.csv loss_vs_time.csv loss_vs_time.png fit.csv fit.png; do
        if [ ! -s "$d/$f" ]; then fail "tiny train" "$f missing or empty"; return; fi
    done
    if ! no_nan || grep -qi nan "$d"/*.csv; then fail "tiny train" "nan in the output"; return; fi
    if [ "$(wc -l < "$d/ga.csv")" -ne 4 ]; then fail "tiny train" "ga.csv: expected a header and 3 generations"; return; fi
    if [ "$(wc -l < "$d/loss_vs_time.csv")" -ne 60 ]; then fail "tiny train" "loss_vs_time.csv: expected 59 times"; return; fi
    if ! grep -q '^loss  *at 0.5 t_f' "$TMP/out" || ! grep -q '^ *at  *t_f = ' "$TMP/out" ||
       ! grep -q '^minimum' "$TMP/out"; then
        fail "tiny train" "no loss report"; return
    fi
    if ! head -c 8 "$d/fit.png" | od -An -tx1 | grep -q '89 50 4e 47'; then fail "tiny train" "fit.png is not a PNG"; return; fi
    ok "neuron train (tiny): network, ga.csv, loss curve, fit, PNGs, no nan"
}

check_threads_and_seed() {
    run neuron train "${TINY[@]}" --out "$TMP/t2" --threads 2
    if [ $status -ne 0 ]; then fail "threads" "exit status $status"; return; fi
    local f
    for f in network.safetensors ga.csv loss_vs_time.csv fit.csv; do
        if ! cmp -s "$TMP/t1/$f" "$TMP/t2/$f"; then fail "threads" "$f differs between 1 and 2 threads"; return; fi
    done
    run neuron train "${TINY[@]}" --out "$TMP/t3" --seed 9
    if cmp -s "$TMP/t1/ga.csv" "$TMP/t3/ga.csv"; then fail "seed" "another seed gave the same ga.csv"; return; fi
    ok "neuron train: same files for 1 and 2 threads; another seed differs"
}

check_curve_reload() {
    run neuron curve --model "$TMP/t1/network.safetensors" --out "$TMP/c1" --eval-replicas 8
    if [ $status -ne 0 ]; then fail "curve" "exit status $status"; return; fi
    if ! cmp -s "$TMP/t1/loss_vs_time.csv" "$TMP/c1/loss_vs_time.csv"; then
        fail "curve" "the reloaded network gives another loss curve"; return
    fi
    run neuron curve --model "$TMP/t3/network.safetensors" --out "$TMP/c3" --eval-replicas 8
    if [ $status -ne 0 ] || ! cmp -s "$TMP/t3/loss_vs_time.csv" "$TMP/c3/loss_vs_time.csv"; then
        fail "curve (seed 9)" "the curve of a network trained with --seed 9 differs"; return
    fi
    printf 'not a safetensors file' > "$TMP/junk.safetensors"
    run neuron curve --model "$TMP/junk.safetensors" --out "$TMP/c2"
    if [ $status -ne 1 ] || ! grep -q 'junk.safetensors' "$TMP/err"; then
        fail "curve (junk)" "expected exit 1 and the file named"; return
    fi
    ok "neuron curve: the saved network reloads to the same curve; a junk file is named"
}

check_bad_values() {
    expect_usage_error "--elite >= --population" "--elite" neuron train --out "$TMP/b" --population 4 --elite 4 || return
    expect_usage_error "--tf 0" "--tf" neuron train --out "$TMP/b" --tf 0 || return
    expect_usage_error "--tf below a step" "--tf" neuron train --out "$TMP/b" --tf 0.001 || return
    expect_usage_error "--J4 0" "--J4" neuron train --out "$TMP/b" --J4 0 || return
    expect_usage_error "--replicas huge" "--replicas" neuron train --out "$TMP/b" --replicas 100000 || return
    expect_usage_error "--mutation -1" "--mutation" neuron train --out "$TMP/b" --mutation -1 || return
    expect_usage_error "no --out" "--out" neuron train --tf 1 || return
    expect_usage_error "curve without --model" "--model" neuron curve --out "$TMP/b" || return
    expect_usage_error "unknown subcommand" "fly" neuron fly || return
    ok "neuron: bad settings refused with status 2, naming the option"
}

check_help
check_tiny_train
check_threads_and_seed
check_curve_reload
check_bad_values

cli_summary
