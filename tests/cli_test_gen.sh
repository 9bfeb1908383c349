#!/usr/bin/env bash
# cli_test_gen.sh - command-line checks of the generator beyond the paper:
# the exact least-squares solver, class-conditional computers (train, sample
# --class), and the samples file that thermo eval reads.
#
# usage: tests/cli_test_gen.sh path/to/thermo
set -u
CLI_NAME=cli-gen
. "$(dirname "$0")/cli_common.sh"

# A conditional computer on the three embedded digits (classes 0, 1, 2),
# pooled to 7x7, trained by the exact solver: it converges, its loss is
# below that of the all-zero computer, it reports no nan, and it writes the
# samples file.
check_exact_conditional() {
    run train --preset tiny --classes --solver exact --stride 2 --out "$TMP/c" --quiet
    if [ $status -ne 0 ]; then fail "train --classes --solver exact" "exit status $status"; return; fi
    if ! grep -q '3 label units' "$TMP/out"; then fail "train --classes" "no label units reported"; return; fi
    if grep -q 'NOT converged' "$TMP/out"; then fail "train --solver exact" "the solve did not converge"; return; fi
    if ! no_nan; then fail "train --solver exact" "nan in the output"; return; fi
    local zero solved
    zero=$(sed -n 's/.*: \([0-9.]*\) with every parameter 0.*/\1/p' "$TMP/out")
    solved=$(sed -n 's/.*, \([0-9.]*\) at the solution.*/\1/p' "$TMP/out")
    if [ -z "$zero" ] || [ -z "$solved" ] || ! awk -v a="$solved" -v b="$zero" 'BEGIN{exit !(a < b)}'; then
        fail "train --solver exact" "the solution's loss ($solved) is not below the zero model's ($zero)"; return
    fi
    for f in model.safetensors summary.json samples.png samples.safetensors; do
        if [ ! -s "$TMP/c/$f" ]; then fail "train --solver exact" "$f was not written"; return; fi
    done
    ok "train --classes --solver exact: converges, lowers the loss, writes every output"
}

# --latent-classes: the class is the computer's own code, not a request, so
# train's and sample's samples files record every sample as unconditional
# (-1: the classes tensor sums to minus the count, read by the independent
# reader), unless sample asks for a class; the model file says so.
check_latent_classes() {
    run train --preset tiny --classes --class-visible --latent-classes --solver exact \
        --ridge 1 --samples 12 --out "$TMP/lat" --quiet
    if [ $status -ne 0 ]; then fail "train --latent-classes" "exit status $status"; return; fi
    local reader py=/usr/bin/python3
    reader="$(dirname "$0")/st_independent_reader.py"
    if [ ! -x "$py" ] || ! "$py" -c 'import numpy' 2>/dev/null; then
        ok "train --latent-classes: trained (no numpy to read the samples file)"; return
    fi
    if ! "$py" "$reader" "$TMP/lat/samples.safetensors" 2>/dev/null | grep -q '^tensor classes .* 12 -12\.0 '; then
        fail "train --latent-classes" "the samples file does not record 12 unconditional samples"
        return
    fi
    if ! "$py" "$reader" "$TMP/lat/model.safetensors" 2>/dev/null | grep -q '^meta sample.latent_classes 1'; then
        fail "train --latent-classes" "the model file does not record sample.latent_classes"; return
    fi
    run sample --model "$TMP/lat/model.safetensors" --n 4 --out "$TMP/l.png" \
        --save "$TMP/l.safetensors" --quiet
    if [ $status -ne 0 ] ||
       ! "$py" "$reader" "$TMP/l.safetensors" 2>/dev/null | grep -q '^tensor classes .* 4 -4\.0 '; then
        fail "sample (latent classes)" "expected 4 samples recorded as unconditional"; return
    fi
    run sample --model "$TMP/lat/model.safetensors" --n 4 --class 1 --out "$TMP/l1.png" \
        --save "$TMP/l1.safetensors" --quiet
    if [ $status -ne 0 ] ||
       ! "$py" "$reader" "$TMP/l1.safetensors" 2>/dev/null | grep -q '^tensor classes .* 4 4\.0 '; then
        fail "sample --class 1 (latent classes)" "expected 4 samples of class 1"; return
    fi
    ok "train --latent-classes: samples recorded as unconditional; sample --class still asks"
}

# Style codes: a folder of the three embedded digits, four copies each
# (IDX files written here), trained with --styles 2 has 3 x 2 label units,
# records gen.styles, and its samples are asked for classes 0..2, not codes;
# one image a class cannot make two styles, and --styles needs --classes.
check_styles() {
    local d="$TMP/rep" k DATA_PRL=data/prl2026
    mkdir -p "$d"
    { printf '\x00\x00\x08\x03\x00\x00\x00\x0c\x00\x00\x00\x1c\x00\x00\x00\x1c'
      for k in 1 2 3 4; do tail -c +17 "$DATA_PRL/train-images-idx3-ubyte"; done; } > "$d/train-images-idx3-ubyte"
    { printf '\x00\x00\x08\x01\x00\x00\x00\x0c'
      for k in 1 2 3 4; do tail -c +9 "$DATA_PRL/train-labels-idx1-ubyte"; done; } > "$d/train-labels-idx1-ubyte"
    run train --preset tiny --data "$d" --images 12 --classes --class-visible --styles 2 \
        --solver exact --samples 6 --out "$TMP/sty" --quiet
    if [ $status -ne 0 ]; then fail "train --styles 2" "exit status $status"; return; fi
    if ! grep -q '6 label units (class-conditional: 3 classes x 2 styles)' "$TMP/out"; then
        fail "train --styles 2" "expected 6 label units, 3 classes x 2 styles"; return
    fi
    run sample --model "$TMP/sty/model.safetensors" --n 4 --class 2 --out "$TMP/s2.png" --quiet
    if [ $status -ne 0 ]; then fail "sample --class 2 (styles)" "exit status $status"; return; fi
    run sample --model "$TMP/sty/model.safetensors" --n 4 --class 3 --out "$TMP/s3.png" --quiet
    if [ $status -eq 0 ] || ! grep -q 'expected a class from 0 to 2' "$TMP/err"; then
        fail "sample --class 3 (3 classes x 2 styles)" "expected a refusal naming classes 0 to 2"; return
    fi
    run train --preset tiny --classes --styles 2 --solver exact --out "$TMP/sty1" --quiet
    if [ $status -ne 1 ] || ! grep -q 'styles = 2: class 0 has only 1 training image' "$TMP/err"; then
        fail "train --styles 2 (one image a class)" "expected exit 1 naming the class"; return
    fi
    run train --preset tiny --styles 2 --out "$TMP/sty2" --quiet
    if [ $status -ne 2 ] || ! grep -q -- '--styles K .* needs --classes' "$TMP/err"; then
        fail "train --styles without --classes" "expected a usage error"; return
    fi
    ok "train --styles: 3 classes x 2 styles, sample asks for classes; bad uses refused"
}

# The exact solution on the same paths is at least as good as gradient
# descent's model (--compare evaluates it on the solver's own paths).
check_exact_beats_gd() {
    run train --preset tiny --out "$TMP/gd" --quiet
    if [ $status -ne 0 ]; then fail "train (gradient descent)" "exit status $status"; return; fi
    run train --preset tiny --solver exact --compare "$TMP/gd/model.safetensors" --out "$TMP/ex" --quiet
    if [ $status -ne 0 ]; then fail "train --compare" "exit status $status"; return; fi
    local solved other
    solved=$(sed -n 's/.*, \([0-9.]*\) at the solution.*/\1/p' "$TMP/out")
    other=$(sed -n 's/^compare .*: \([0-9.]*\) per step and unit.*/\1/p' "$TMP/out")
    if [ -z "$solved" ] || [ -z "$other" ] || ! awk -v a="$solved" -v b="$other" 'BEGIN{exit !(a <= b)}'; then
        fail "train --compare" "exact ($solved) is not at most gradient descent's ($other)"; return
    fi
    ok "exact solver: loss $solved per step and unit, gradient descent's model $other on the same paths"
}

# thermo sample --class: all samples of one class, written to a samples file
# whose classes say so; a class out of range and --class on an unconditional
# computer are refused with messages naming them.
check_sample_class() {
    local model=$TMP/c/model.safetensors
    if [ ! -s "$model" ]; then fail "sample --class" "no conditional model to sample from"; return; fi
    run sample --model "$model" --n 6 --class 2 --out "$TMP/k.png" --save "$TMP/k.safetensors" --quiet
    if [ $status -ne 0 ]; then fail "sample --class 2" "exit status $status"; return; fi
    if [ ! -s "$TMP/k.safetensors" ]; then fail "sample --save" "no samples file"; return; fi
    # the header of the samples file names its three tensors
    if ! head -c 600 "$TMP/k.safetensors" | grep -q '"classes"' ||
       ! head -c 600 "$TMP/k.safetensors" | grep -q '"heat"'; then
        fail "sample --save" "the samples file lacks classes or heat"; return
    fi
    run sample --model "$model" --n 2 --class 3 --out "$TMP/k3.png" --quiet
    if [ $status -ne 1 ] || ! grep -q -- '--class' "$TMP/err" || ! grep -q '0 to 2' "$TMP/err"; then
        fail "sample --class 3" "expected exit 1 naming --class and the range 0 to 2"; return
    fi
    run sample --model "$TMP/gd/model.safetensors" --n 2 --class 0 --out "$TMP/k0.png" --quiet
    if [ $status -ne 1 ] || ! grep -q 'unconditional' "$TMP/err"; then
        fail "sample --class (unconditional model)" "expected exit 1 saying it is unconditional"; return
    fi
    ok "sample --class: one class, samples file with classes and heat, bad classes rejected"
}

# thermo sample --phase1 exact: the noise phase drawn from the wells'
# equilibrium (the report says so), the same samples whichever batch draws
# them (--first 3 --n 1 regenerates sample 3), unlike the Euler default;
# an unknown choice is a usage error naming the option.
check_sample_phase1() {
    local model=$TMP/c/model.safetensors
    if [ ! -s "$model" ]; then fail "sample --phase1" "no model to sample from"; return; fi
    run sample --model "$model" --n 4 --phase1 exact --out "$TMP/p.png" --heat "$TMP/p.csv" --quiet
    if [ $status -ne 0 ] || ! grep -q 'noise drawn exactly' "$TMP/out"; then
        fail "sample --phase1 exact" "exit status $status or no report of the exact draw"; return
    fi
    run sample --model "$model" --first 3 --n 1 --phase1 exact --out "$TMP/p3.png" --heat "$TMP/p3.csv" --quiet
    if [ $status -ne 0 ] || [ "$(sed -n 5p "$TMP/p.csv")" != "$(sed -n 2p "$TMP/p3.csv")" ]; then
        fail "sample --phase1 exact --first 3" "sample 3 alone differs from sample 3 of four"; return
    fi
    run sample --model "$model" --n 4 --out "$TMP/e.png" --heat "$TMP/e.csv" --quiet
    if [ $status -ne 0 ] || cmp -s "$TMP/e.csv" "$TMP/p.csv"; then
        fail "sample (euler)" "exit status $status, or the same heat as the exact draw"; return
    fi
    expect_usage_error "sample --phase1 bogus" '--phase1' sample --model "$model" --n 1 \
        --phase1 bogus --out "$TMP/b.png" || return
    ok "sample --phase1 exact: reported, reproducible per sample, differs from euler"
}

check_bad_train_options() {
    run train --preset tiny --solver exact --resume --out "$TMP/r" --quiet
    if [ $status -ne 2 ] || ! grep -q -- '--resume' "$TMP/err"; then
        fail "train --solver exact --resume" "expected a usage error naming --resume"; return
    fi
    run train --preset tiny --images 5 --out "$TMP/i" --quiet
    if [ $status -ne 1 ] || ! grep -q -- '--images 5' "$TMP/err"; then
        fail "train --images 5 (3 images in the folder)" "expected exit 1 naming --images"; return
    fi
    run train --preset tiny --solver exact --stride 0 --out "$TMP/s" --quiet
    if [ $status -ne 2 ] || ! grep -q -- '--stride' "$TMP/err"; then
        fail "train --stride 0" "expected a usage error naming --stride"; return
    fi
    ok "train: exact with --resume, too many --images, --stride 0 rejected"
}

# Time-dependent protocols: gradient descent with segments resumes to the
# same model; bad segment options are named; a readout window beyond the
# steps of the model's computing phase is a failure naming the option.
check_segments() {
    run train --preset tiny --segments 3 --out "$TMP/seg" --quiet
    if [ $status -ne 0 ] || ! grep -q '^work ' "$TMP/out" || ! grep -q '^protocol  3 segments' "$TMP/out"; then
        fail "train --segments 3" "exit status $status, or no protocol and work lines"; return
    fi
    cp "$TMP/seg/model.safetensors" "$TMP/seg_whole.safetensors"
    run train --preset tiny --segments 3 --out "$TMP/seg" --resume --quiet
    if [ $status -ne 0 ] || ! cmp -s "$TMP/seg/model.safetensors" "$TMP/seg_whole.safetensors"; then
        fail "train --segments 3 --resume" "the resumed protocol differs"; return
    fi
    run train --preset tiny --segments 0 --out "$TMP/s0" --quiet
    if [ $status -ne 2 ] || ! grep -q -- '--segments' "$TMP/err"; then
        fail "train --segments 0" "expected a usage error naming --segments"; return
    fi
    run train --preset tiny --segment-penalty 1 --out "$TMP/sp" --quiet
    if [ $status -ne 2 ] || ! grep -q -- '--segment-penalty' "$TMP/err"; then
        fail "train --segment-penalty (gd)" "expected a usage error naming it"; return
    fi
    run sample --model "$TMP/seg/model.safetensors" --n 2 --readout-window 101 --out "$TMP/x.png" --quiet
    if [ $status -ne 1 ] || ! grep -q -- '--readout-window' "$TMP/err"; then
        fail "sample --readout-window 101" "expected exit 1 naming the option"; return
    fi
    ok "train --segments 3: protocol and work reported, resume bit-identical; bad options named"
}

check_exact_conditional
check_latent_classes
check_styles
check_segments
check_exact_beats_gd
check_sample_class
check_sample_phase1
check_bad_train_options
cli_summary
