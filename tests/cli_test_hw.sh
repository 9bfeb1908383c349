#!/usr/bin/env bash
# cli_test_hw.sh - checks of the hardware model on the command line: the
# hardware options of sample, eval, classify eval and neuron curve refuse
# impossible values (bits < 1, negative mismatch, a tau_c that is not finite,
# an offset <= -1) with exit status 2 and a message naming the option; with
# every imperfection at zero sample gives the ideal run's bytes; thermo train
# --aware-bits records itself; thermo hardware sweep writes its CSV (one row
# per value and device, the ideal first) and PNG, prints the budget, and
# gives the same files for 1 and 2 threads, for a time-dependent protocol too
# (its heat that of thermo sample on the same device).
#
# usage: tests/cli_test_hw.sh path/to/thermo
set -u

CLI_NAME=cli_hw
. "$(dirname "$0")/cli_common.sh"

check_bad_options() {
    local c ok_all=1
    # the option each impossible value must name, for every command with the options
    local -a cases=("--bits 0:--bits" "--bits 33:--bits" "--mismatch -0.1:--mismatch"
                    "--tau-c inf:--tau-c" "--tau-c nan:--tau-c" "--tau-c -1:--tau-c"
                    "--dkT -1:--dkT" "--adc-bits 0:--adc-bits" "--adc-range 0:--adc-range"
                    "--scale column:--scale")
    for c in "${cases[@]}"; do
        local args=${c%%:*} word=${c##*:}
        # shellcheck disable=SC2086
        expect_usage_error "sample $args" "$word" sample --model m --n 1 --out x.png $args || ok_all=0
        # shellcheck disable=SC2086
        expect_usage_error "classify eval $args" "$word" classify eval --model m $args || ok_all=0
        # shellcheck disable=SC2086
        expect_usage_error "neuron curve $args" "$word" neuron curve --model m --out "$TMP/n" $args || ok_all=0
        # shellcheck disable=SC2086
        expect_usage_error "eval $args" "$word" eval --model m --judge j $args || ok_all=0
        # shellcheck disable=SC2086
        expect_usage_error "hardware sweep $args" "$word" hardware sweep --model m --values 1 --out "$TMP/s" $args || ok_all=0
    done
    expect_usage_error "neuron curve --tau-c" "--tau-c" neuron curve --model m --out "$TMP/n" --tau-c 0.1 || ok_all=0
    expect_usage_error "eval --samples with --bits" "--model" eval --samples s --judge j --bits 4 || ok_all=0
    expect_usage_error "sweep --values 1.5" "--values" hardware sweep --model m --param bits --values 1.5 --out "$TMP/s" || ok_all=0
    expect_usage_error "sweep --values -0.1" "--values" hardware sweep --model m --param mismatch --values -0.1 --out "$TMP/s" || ok_all=0
    expect_usage_error "sweep --values descending" "ascending" hardware sweep --model m --values 4,2 --out "$TMP/s" || ok_all=0
    expect_usage_error "sweep --param" "--param" hardware sweep --model m --param volts --values 1 --out "$TMP/s" || ok_all=0
    expect_usage_error "train --aware-bits 0" "--aware-bits" train --preset tiny --aware-bits 0 --out "$TMP/t" || ok_all=0
    run hardware
    if [ $status -ne 2 ]; then fail "hardware (no subcommand)" "exit status $status, expected 2"; ok_all=0; fi
    [ $ok_all -eq 1 ] && ok "hardware options: impossible values are usage errors naming the option"
}

check_zero_imperfection() {
    run train --preset tiny --out "$TMP/g" --quiet
    if [ $status -ne 0 ]; then fail "tiny train" "exit status $status"; return; fi
    run sample --model "$TMP/g/model.safetensors" --n 12 --out "$TMP/a.png" --heat "$TMP/a.csv" --save "$TMP/a.st"
    if [ $status -ne 0 ]; then fail "sample" "exit status $status"; return; fi
    run sample --model "$TMP/g/model.safetensors" --n 12 --out "$TMP/b.png" --heat "$TMP/b.csv" --save "$TMP/b.st" \
        --mismatch 0 --dkT 0 --kT-drift 0 --tau-c 0 --device 9 --scale row
    if [ $status -ne 0 ] || ! cmp -s "$TMP/a.csv" "$TMP/b.csv" || ! cmp -s "$TMP/a.st" "$TMP/b.st"; then
        fail "zero imperfection" "sample with every imperfection 0 differs from the ideal run"; return
    fi
    run sample --model "$TMP/g/model.safetensors" --n 12 --out "$TMP/c.png" --heat "$TMP/c.csv" \
        --bits 3 --mismatch 0.05 --dkT 0.1 --kT-drift 0.2 --tau-c 0.01 --adc-bits 4
    if [ $status -ne 0 ] || ! grep -q '^hardware  3 bits per block, mismatch 0.05 (device 1)' "$TMP/out" ||
       cmp -s "$TMP/a.csv" "$TMP/c.csv" || ! no_nan; then
        fail "sample on hardware" "expected a hardware line and other heat"; return
    fi
    ok "sample: zero imperfection gives the ideal run's bytes; imperfections change it and are reported"
}

check_aware_training() {
    run train --preset tiny --aware-bits 2 --aware-mismatch 0.05 --out "$TMP/aw" --quiet
    if [ $status -ne 0 ] || ! grep -q '^aware ' "$TMP/out"; then fail "train --aware-bits" "exit status $status or no aware line"; return; fi
    if ! head -c 4000 "$TMP/aw/model.safetensors" | grep -aq '"train.aware_bits":"2"'; then
        fail "train --aware-bits" "the model does not record train.aware_bits"; return
    fi
    if cmp -s "$TMP/aw/model.safetensors" "$TMP/g/model.safetensors"; then
        fail "train --aware-bits" "the same model as ideal training"; return
    fi
    expect_usage_error "aware exact" "--aware" train --preset tiny --solver exact --aware-bits 2 --out "$TMP/ax" || return
    ok "train --aware-bits/--aware-mismatch: another model, recorded in its metadata; exact solver refused"
}

check_sweep() {
    local d="$TMP/sw1"
    run hardware sweep --model "$TMP/g/model.safetensors" --param bits --values 2,4 --devices 2 \
        --samples 8 --mismatch 0.02 --compare "$TMP/aw/model.safetensors" --out "$d" --threads 1 --quiet
    if [ $status -ne 0 ]; then fail "hardware sweep" "exit status $status"; return; fi
    if [ "$(head -1 "$d/sweep.csv")" != "param,value,device,quality,heat,model" ]; then
        fail "hardware sweep" "sweep.csv header: $(head -1 "$d/sweep.csv")"; return
    fi
    # 2 ideal rows, then 2 values x 2 devices x (target, compare)
    if [ "$(wc -l < "$d/sweep.csv")" -ne 11 ] || [ "$(grep -c '^ideal,' "$d/sweep.csv")" -ne 2 ] ||
       [ "$(grep -c ',compare$' "$d/sweep.csv")" -ne 4 ]; then
        fail "hardware sweep" "expected 1 + 2 + 8 lines in sweep.csv"; return
    fi
    if ! head -c 8 "$d/sweep.png" | od -An -tx1 | grep -q '89 50 4e 47'; then fail "hardware sweep" "sweep.png is not a PNG"; return; fi
    if ! grep -q '^budget ' "$TMP/out" || ! grep -q '^aware ' "$TMP/out" || ! no_nan; then
        fail "hardware sweep" "no budget lines, or nan"; return
    fi
    run hardware sweep --model "$TMP/g/model.safetensors" --param bits --values 2,4 --devices 2 \
        --samples 8 --mismatch 0.02 --compare "$TMP/aw/model.safetensors" --out "$TMP/sw2" --threads 2 --quiet
    if [ $status -ne 0 ] || ! cmp -s "$d/sweep.csv" "$TMP/sw2/sweep.csv"; then
        fail "hardware sweep threads" "1 and 2 threads gave different sweep.csv"; return
    fi
    run hardware sweep --model "$TMP/g/model.safetensors" --param tau --values 0.01,0.1 --devices 1 \
        --samples 8 --out "$TMP/sw3" --quiet
    if [ $status -ne 0 ] || [ "$(head -1 "$TMP/sw3/sweep.csv")" != "param,value,device,quality,heat" ] ||
       ! grep -q '^tau,0.1,0,' "$TMP/sw3/sweep.csv"; then
        fail "hardware sweep tau" "exit status $status or a bad sweep.csv"; return
    fi
    run hardware sweep --model "$TMP/nope.safetensors" --values 2 --out "$TMP/sw4"
    if [ $status -ne 1 ] || ! grep -q 'nope.safetensors' "$TMP/err"; then fail "sweep missing model" "exit $status"; return; fi
    ok "hardware sweep: sweep.csv (ideal first, a row per value and device, compare rows), sweep.png, budget; same for 1 and 2 threads"
}

# A time-dependent protocol (tiny, 2 segments) swept on devices: every
# segment runs on the device; the ideal row and device 0 at 2 bits carry the
# mean heat of thermo sample's own runs of the same samples (noise 0, device
# seed 1); the same files for 1 and 2 threads.
check_sweep_protocol() {
    run train --preset tiny --segments 2 --samples 4 --out "$TMP/gs" --quiet
    if [ $status -ne 0 ]; then fail "tiny train --segments 2" "exit status $status"; return; fi
    local m="$TMP/gs/model.safetensors" t
    for t in 1 2; do
        run hardware sweep --model "$m" --param bits --values 2,4 --devices 2 --samples 8 \
            --mismatch 0.02 --out "$TMP/sp$t" --threads $t --quiet
        if [ $status -ne 0 ] || ! no_nan; then fail "hardware sweep (protocol)" "exit status $status or nan"; return; fi
    done
    if [ "$(wc -l < "$TMP/sp1/sweep.csv")" -ne 7 ] || ! cmp -s "$TMP/sp1/sweep.csv" "$TMP/sp2/sweep.csv"; then
        fail "hardware sweep (protocol)" "expected 1 + 2 + 4 lines, the same for 1 and 2 threads"; return
    fi
    run sample --model "$m" --n 8 --out "$TMP/si.png" --heat "$TMP/si.csv"
    run sample --model "$m" --n 8 --out "$TMP/sd.png" --heat "$TMP/sd.csv" --bits 2 --mismatch 0.02 --device 1
    local mean_i mean_d row_i row_d
    mean_i=$(awk -F, 'NR > 1 { s += $2; n++ } END { printf "%.9g", s / n }' "$TMP/si.csv")
    mean_d=$(awk -F, 'NR > 1 { s += $2; n++ } END { printf "%.9g", s / n }' "$TMP/sd.csv")
    row_i=$(awk -F, '$1 == "ideal" && $3 == 0 { print $5 }' "$TMP/sp1/sweep.csv")
    row_d=$(awk -F, '$1 == "bits" && $2 == 2 && $3 == 0 { print $5 }' "$TMP/sp1/sweep.csv")
    if ! awk -v a="$mean_i" -v b="$row_i" -v c="$mean_d" -v d="$row_d" \
        'BEGIN { e = 1e-7 * (a < 0 ? -a : a) + 1e-9; x = a - b; y = c - d
                 exit !((x < 0 ? -x : x) <= e && (y < 0 ? -y : y) <= e && a != c) }'; then
        fail "hardware sweep (protocol)" "heat ideal $row_i, device $row_d; thermo sample gives $mean_i, $mean_d"; return
    fi
    ok "hardware sweep: a protocol's every segment on the device (heat = thermo sample's), same for 1 and 2 threads"
}

check_neuron_curve() {
    run neuron train --tf 0.2 --layers 2 --width 3 --nz 4 --replicas 4 --eval-replicas 8 \
        --population 6 --elite 2 --generations 2 --quiet --out "$TMP/nt"
    if [ $status -ne 0 ]; then fail "neuron train" "exit status $status"; return; fi
    run neuron curve --model "$TMP/nt/network.safetensors" --eval-replicas 8 --out "$TMP/nc0"
    run neuron curve --model "$TMP/nt/network.safetensors" --eval-replicas 8 --out "$TMP/nc1" --mismatch 0
    if [ $status -ne 0 ] || ! cmp -s "$TMP/nc0/loss_vs_time.csv" "$TMP/nc1/loss_vs_time.csv"; then
        fail "neuron curve zero imperfection" "differs from the ideal curve"; return
    fi
    run neuron curve --model "$TMP/nt/network.safetensors" --eval-replicas 8 --out "$TMP/nc2" \
        --bits 3 --mismatch 0.1 --dkT 0.2 --adc-bits 4
    if [ $status -ne 0 ] || ! grep -q '^hardware  3 bits' "$TMP/out" ||
       cmp -s "$TMP/nc0/loss_vs_time.csv" "$TMP/nc2/loss_vs_time.csv" || ! no_nan; then
        fail "neuron curve on hardware" "exit status $status, no hardware line, or the ideal curve"; return
    fi
    ok "neuron curve: zero imperfection is the ideal curve; bits, mismatch, dkT and ADC change it"
}

# A generator trained in the repository's root records data.source relative
# to it (data/prl2026); run from another folder, the sweep finds the images
# from the folders above the model file, passing over a look-alike nearer to
# it whose images differ (its hash is not the model's data.fnv1a64). With no
# such folder it fails, naming where it looked, and the look-alike it passed
# over.
check_sweep_elsewhere() {
    local root="$TMP/tree" here thermo_abs
    here=$(pwd)
    thermo_abs="$(cd "$(dirname "$THERMO")" && pwd)/$(basename "$THERMO")"
    mkdir -p "$root/data/prl2026" "$root/runs/m/data/prl2026" "$TMP/cwd"
    cp data/prl2026/train-* "$root/data/prl2026/"
    cp data/prl2026/train-labels-idx1-ubyte "$root/runs/m/data/prl2026/"
    local imgs="$root/runs/m/data/prl2026/train-images-idx3-ubyte" size
    size=$(wc -c < data/prl2026/train-images-idx3-ubyte)
    head -c 16 data/prl2026/train-images-idx3-ubyte > "$imgs" # the same header, grey pixels
    head -c $((size - 16)) /dev/zero | tr '\000' '\200' >> "$imgs"
    cp "$TMP/g/model.safetensors" "$root/runs/m/"
    cd "$TMP/cwd" || return
    local saved=$THERMO
    THERMO=$thermo_abs
    run hardware sweep --model "$root/runs/m/model.safetensors" --param bits --values 2,4 \
        --devices 1 --samples 8 --out "$TMP/swe" --quiet
    local st1=$status
    cp "$root/runs/m/model.safetensors" "$TMP/cwd/alone.safetensors"
    run hardware sweep --model "$TMP/cwd/alone.safetensors" --param bits --values 2 --devices 1 \
        --samples 8 --out "$TMP/swe2" --quiet
    local st2=$status
    rm -r "$root/data"
    run hardware sweep --model "$root/runs/m/model.safetensors" --param bits --values 2 \
        --devices 1 --samples 8 --out "$TMP/swe3" --quiet
    local st3=$status
    THERMO=$saved
    cd "$here" || return
    # 1 header + 1 ideal + 2 values x 1 device
    if [ $st1 -ne 0 ] || [ "$(wc -l < "$TMP/swe/sweep.csv")" -ne 4 ]; then
        fail "hardware sweep elsewhere" "exit status $st1 or a bad sweep.csv"; return
    fi
    if [ $st2 -ne 1 ]; then fail "hardware sweep, no training set" "exit status $st2"; return; fi
    if [ $st3 -ne 1 ] || ! grep -q 'each folder above the model file' "$TMP/err" ||
       ! grep -q "passed over .*hash is .*data.fnv1a64" "$TMP/err"; then
        fail "hardware sweep, only a look-alike" "exit status $st3"; return
    fi
    ok "hardware sweep from another folder: the training set found above the model file, a look-alike with another hash passed over"
}


check_bad_options
check_zero_imperfection
check_aware_training
check_sweep
check_sweep_elsewhere
check_sweep_protocol
check_neuron_curve
cli_summary
