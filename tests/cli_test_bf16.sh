#!/usr/bin/env bash
# cli_test_bf16.sh - --precision bf16 (thermo sample and thermo train's
# sampling): the same bits under each bfloat16 kernel (THERMO_BF16) and
# thread count and for a sample alone (--first) or in a batch; different
# bits from float32 but nearly the same heat; training untouched; a bad
# value is a usage error; thermo simulate --precision bf16 keeps the first
# law's check.
# Usage: tests/cli_test_bf16.sh path/to/thermo
CLI_NAME=cli_bf16
. "$(dirname "$0")/cli_common.sh"

MODEL="$TMP/run/model.safetensors"

# sample's checksums of the samples file and the heat under the environment
# given as arguments (VAR=value ...), and the options after --.
fingerprint() {
    local dir="$TMP/s.$RANDOM" envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    mkdir -p "$dir"
    env "${envs[@]}" "$THERMO" sample --model "$MODEL" --n 12 --out "$dir/s.png" \
        --save "$dir/s.safetensors" --heat "$dir/h.csv" "$@" >"$TMP/out" 2>"$TMP/err" ||
        { echo "sample failed"; return; }
    (cd "$dir" && sha256sum s.safetensors h.csv) | tr '\n' ' '
}

mean_heat() { awk -F, 'NR > 1 { s += $2; n++ } END { printf "%.6f", s / n }' "$1"; }

check_train() {
    run train --preset prl2026 --updates 1 --batch 1 --samples 4 --t-f 0.5 --out "$TMP/run" --quiet
    if [ $status -ne 0 ]; then fail "train" "exit status $status"; return 1; fi
    run train --preset prl2026 --updates 1 --batch 1 --samples 4 --t-f 0.5 --out "$TMP/run16" \
        --precision bf16 --quiet
    if [ $status -ne 0 ]; then fail "train --precision bf16" "exit status $status"; return 1; fi
    if ! grep -q "bfloat16 coupling products" "$TMP/out"; then
        fail "train --precision bf16" "the report does not say the sampling ran in bfloat16"
        return 1
    fi
    if ! cmp -s "$TMP/run/model.safetensors" "$TMP/run16/model.safetensors"; then
        fail "train --precision bf16" "the trained model changed: only the sampling may"
        return 1
    fi
    if cmp -s "$TMP/run/samples.safetensors" "$TMP/run16/samples.safetensors"; then
        fail "train --precision bf16" "the samples equal float32's: bfloat16 did not run"
        return 1
    fi
    ok "train --precision bf16: the same model, other samples"
}

check_bits() {
    local base got e bad=0
    base=$(fingerprint -u THERMO_BF16 OMP_NUM_THREADS=2 -- --precision bf16)
    case "$base" in *failed*) fail "bf16 kernels" "the reference run: $base"; return ;; esac
    if ! grep -q "^precision bfloat16" "$TMP/out"; then
        fail "sample --precision bf16" "the report has no precision line"
        return
    fi
    local envs=("THERMO_BF16=portable OMP_NUM_THREADS=2" "THERMO_BF16=portable OMP_NUM_THREADS=1"
                "THERMO_BF16=avx512bf16 OMP_NUM_THREADS=1")
    for e in "${envs[@]}"; do
        # shellcheck disable=SC2086
        got=$(fingerprint -u THERMO_BF16 $e -- --precision bf16)
        if [ "$got" != "$base" ]; then
            fail "bf16 same bits under $e" "checksums differ from the reference run"
            echo "    reference: $base"
            echo "    this run:  $got"
            bad=1
        fi
    done
    [ $bad -eq 0 ] && ok "sample --precision bf16: same bits under ${#envs[@]} kernel and thread settings"
}

# Float32 and bfloat16 samples differ, their mean heats by under 2%; samples
# 5..8 alone equal samples 5..8 of 12.
check_against_f32() {
    local d32="$TMP/c32" d16="$TMP/c16"
    mkdir -p "$d32" "$d16"
    run sample --model "$MODEL" --n 12 --out "$d32/s.png" --heat "$d32/h.csv"
    [ $status -eq 0 ] || { fail "sample" "exit status $status"; return; }
    run sample --model "$MODEL" --n 12 --out "$d16/s.png" --heat "$d16/h.csv" --precision bf16
    [ $status -eq 0 ] || { fail "sample --precision bf16" "exit status $status"; return; }
    if cmp -s "$d32/h.csv" "$d16/h.csv"; then
        fail "sample --precision bf16" "the heat equals float32's to the digit"
        return
    fi
    local h32 h16
    h32=$(mean_heat "$d32/h.csv")
    h16=$(mean_heat "$d16/h.csv")
    if ! awk -v a="$h32" -v b="$h16" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02 * (a < 0 ? -a : a)) }'; then
        fail "sample --precision bf16" "mean heat $h16 kT, float32 $h32 kT: more than 2% apart"
        return
    fi
    run sample --model "$MODEL" --n 4 --first 5 --out "$d16/b.png" --heat "$d16/b.csv" \
        --precision bf16
    if [ $status -ne 0 ] || ! diff <(sed -n '7,10p' "$d16/h.csv") <(sed -n '2,5p' "$d16/b.csv") >/dev/null; then
        fail "sample --precision bf16 --first" "samples 5..8 alone differ from those of a batch of 12"
        return
    fi
    ok "sample --precision bf16: heat $h16 kT against float32's $h32 kT; --first regenerates"
}

check_usage() {
    expect_usage_error "sample --precision f64" "--precision" sample --model "$MODEL" --n 2 \
        --out "$TMP/x.png" --precision f64 &&
        expect_usage_error "train --precision half" "--precision" train --preset prl2026 \
            --out "$TMP/x" --precision half &&
        expect_usage_error "simulate --precision bf16 --kernel reference" "--kernel fast" \
            simulate --units 8 --steps 2 --precision bf16 --kernel reference &&
        ok "--precision: anything but f32 or bf16 is a usage error (and bf16 with the reference kernel)"
}

# simulate --precision bf16: runs, differs from f32, and its heat still
# matches V(x0) - V(xT) (the coupling heat telescopes on the bfloat16 product).
check_simulate() {
    run simulate --units 64 --steps 300 --batch 4 --dt 0.01 --coupling 1 --precision bf16 --quiet
    if [ $status -ne 0 ] || ! grep -q "precision bf16" "$TMP/out"; then
        fail "simulate --precision bf16" "exit status $status"
        return
    fi
    local law
    law=$(awk '/^check/ { for (i = 1; i <= NF; i++) if ($i == "max") print $(i + 1) }' "$TMP/out")
    if ! awk -v g="$law" 'BEGIN { exit !(g != "" && g < 0.5) }'; then
        fail "simulate --precision bf16" "first-law gap $law kT"
        return
    fi
    ok "simulate --precision bf16: first-law gap at most $law kT"
}

if check_train; then
    check_bits
    check_against_f32
    check_usage
fi
check_simulate
cli_summary
