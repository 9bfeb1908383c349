#!/usr/bin/env bash
# cli_test.sh - checks of the thermo command line: help, exit statuses,
# messages that name the offending option, no nan in any output, and results
# that depend on the seed but not on the number of threads.
#
# usage: tests/cli_test.sh path/to/thermo
# Each check prints "ok" or "FAIL" with the output that made it fail; the last
# line counts them and the exit status is non-zero when any check failed.
set -u

CLI_NAME=cli
. "$(dirname "$0")/cli_common.sh"

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

# thermo train: the tiny preset runs end to end and writes every output; a
# run killed right after its checkpoint at update 2 (SIGKILL, no clean-up)
# and resumed gives a model bit-identical to an uninterrupted run.
check_train_resume() {
    local tiny=(train --preset tiny --updates 5 --samples 6 --quiet)
    run "${tiny[@]}" --out "$TMP/whole"
    if [ $status -ne 0 ]; then fail "train tiny" "exit status $status"; return; fi
    local f
    for f in model.safetensors loss.csv summary.json noising.png denoising.png samples.png \
             fields.png; do
        if [ ! -s "$TMP/whole/$f" ]; then fail "train tiny" "$f was not written"; return; fi
    done
    if ! no_nan; then fail "train tiny" "the report mentions nan"; return; fi
    # the braces keep bash's own "Killed" notice out of the log
    { THERMO_TEST_KILL_AFTER=2 "$THERMO" "${tiny[@]}" --out "$TMP/killed" >"$TMP/out" \
        2>"$TMP/err"; } 2>/dev/null
    status=$?
    if [ $status -ne 137 ] || [ ! -s "$TMP/killed/checkpoint.safetensors" ] ||
       [ -e "$TMP/killed/model.safetensors" ]; then
        fail "train kill" "expected death by SIGKILL (137) after a checkpoint, got $status"
        return
    fi
    run "${tiny[@]}" --out "$TMP/killed" --resume
    if [ $status -ne 0 ]; then fail "train --resume" "exit status $status"; return; fi
    if ! cmp -s "$TMP/whole/model.safetensors" "$TMP/killed/model.safetensors"; then
        fail "train --resume" "the resumed model differs from the uninterrupted one"; return
    fi
    if ! cmp -s "$TMP/whole/loss.csv" "$TMP/killed/loss.csv"; then
        fail "train --resume" "the resumed loss.csv differs"; return
    fi
    run "${tiny[@]}" --out "$TMP/killed" --resume --lr 1e-3
    if [ $status -ne 1 ] || ! grep -q 'learning_rate' "$TMP/err"; then
        fail "train --resume (other settings)" "expected exit 1 naming the setting"; return
    fi
    ok "train: tiny preset writes all outputs; kill -9 and --resume give the same model"
}

# The first 8 bytes of every PNG file, in hex.
PNG_SIGNATURE=89504e470d0a1a0a

# thermo sample on a model from thermo train's tiny preset (a second or so):
# a PNG and a report without nan; sample K regenerated alone has the same
# heat; bad inputs rejected with the right status and the file named.
check_sample() {
    run train --help
    if [ $status -ne 0 ]; then
        echo "skip sample: this thermo has no train command to make a model with"
        return
    fi
    run train --preset tiny --out "$TMP/run" --quiet
    if [ $status -ne 0 ]; then fail "train --preset tiny" "exit status $status"; return; fi
    local model=$TMP/run/model.safetensors
    run sample --model "$model" --n 12 --out "$TMP/s.png" --heat "$TMP/heat.csv" --preview
    if [ $status -ne 0 ]; then fail "sample" "exit status $status"; return; fi
    if [ "$(head -c 8 "$TMP/s.png" | od -An -tx1 | tr -d ' \n')" != "$PNG_SIGNATURE" ]; then
        fail "sample" "$TMP/s.png is not a PNG file"; return
    fi
    if ! grep -q '^heat ' "$TMP/out" || ! grep -q '^preview ' "$TMP/out"; then
        fail "sample" "no heat line or no preview"; return
    fi
    if ! no_nan; then fail "sample" "nan in the output"; return; fi
    if [ -s "$TMP/err" ]; then fail "sample" "expected nothing on stderr when it is not a terminal"; return; fi
    if [ "$(wc -l < "$TMP/heat.csv")" -ne 13 ]; then fail "sample --heat" "expected a header and 12 rows"; return; fi
    run sample --model "$model" --n 1 --first 5 --out "$TMP/s5.png" --heat "$TMP/heat5.csv" --quiet
    if [ $status -ne 0 ] || [ "$(sed -n 2p "$TMP/heat5.csv")" != "$(sed -n 7p "$TMP/heat.csv")" ]; then
        fail "sample --first 5 --n 1" "sample 5 alone differs from sample 5 of a run of 12"; return
    fi
    run sample --model "$TMP/missing.safetensors" --n 3 --out "$TMP/m.png" --quiet
    if [ $status -ne 1 ] || ! grep -q 'missing.safetensors' "$TMP/err"; then
        fail "sample (missing model)" "expected exit 1 naming the file"; return
    fi
    head -c 300 "$model" > "$TMP/truncated.safetensors"
    run sample --model "$TMP/truncated.safetensors" --n 3 --out "$TMP/t.png" --quiet
    if [ $status -ne 1 ] || ! grep -q 'truncated.safetensors' "$TMP/err" || ! no_nan; then
        fail "sample (truncated model)" "expected exit 1 naming the file"; return
    fi
    expect_usage_error "sample --n 0" "--n" sample --model "$model" --n 0 --out "$TMP/z.png" || return
    expect_usage_error "sample without --out" "--out" sample --model "$model" --n 3 || return
    expect_usage_error "sample --seed -1" "--seed" sample --model "$model" --n 3 --out "$TMP/z.png" --seed -1 || return
    ok "sample: PNG, report without nan, samples regenerated alone, bad inputs rejected"
}

# thermo energy on a tiny model: the report with its ratio table and the
# paper's own ratio, no nan, JSON that parses with every line, a PNG; line
# (c) from a fake powercap folder; a model without generator settings and
# bad values rejected.
check_energy() {
    run train --preset tiny --out "$TMP/erun" --quiet
    if [ $status -ne 0 ]; then fail "energy (train --preset tiny)" "exit status $status"; return; fi
    local model=$TMP/erun/model.safetensors
    run energy --model "$model" --samples 8 --json "$TMP/e.json" --histogram "$TMP/h.png" --quiet
    if [ $status -ne 0 ]; then fail "energy" "exit status $status"; return; fi
    local word
    for word in '^ratios: ' '^  (a) ' '^  (b) ' '^  (c) ' '^  (d) ' '^paper ' 'ratio 1\.81e+11, the paper' '^left out'; do
        if ! grep -q -- "$word" "$TMP/out"; then fail "energy" "no line matching '$word'"; return; fi
    done
    if ! no_nan; then fail "energy" "nan in the output"; return; fi
    if [ -s "$TMP/err" ]; then fail "energy" "expected nothing on stderr"; return; fi
    if [ "$(head -c 8 "$TMP/h.png" | od -An -tx1 | tr -d ' \n')" != "$PNG_SIGNATURE" ]; then
        fail "energy --histogram" "$TMP/h.png is not a PNG file"; return
    fi
    if command -v python3 >/dev/null; then
        if ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
assert [l["line"] for l in d["digital"]] == ["a", "b", "c", "d"]
assert d["digital"][0]["macs"] == 2170880 and d["paper_check"]["ratio"] > 1e10
assert sum(d["heat_per_sample"]["histogram"]["counts"]) == 8' "$TMP/e.json" 2>"$TMP/err"; then
            fail "energy --json" "the JSON does not parse or lacks a line"; return
        fi
    fi
    mkdir -p "$TMP/cap/intel-rapl:0"
    echo package-0 > "$TMP/cap/intel-rapl:0/name"
    echo 1000 > "$TMP/cap/intel-rapl:0/energy_uj"
    echo 262143328850 > "$TMP/cap/intel-rapl:0/max_energy_range_uj"
    THERMO_POWERCAP=$TMP/cap run energy --model "$model" --samples 4 --quiet
    if [ $status -ne 0 ] || ! grep -q '^  (c) .* J measured' "$TMP/out" || ! no_nan; then
        fail "energy (fake RAPL)" "expected line (c) measured"; return
    fi
    run energy --model "$TMP/missing.safetensors" --samples 3 --quiet
    if [ $status -ne 1 ] || ! grep -q 'missing.safetensors' "$TMP/err"; then
        fail "energy (missing model)" "expected exit 1 naming the file"; return
    fi
    if command -v python3 >/dev/null; then
        # the same model with its gen.* metadata removed: neither a generator nor a classifier
        python3 -c 'import json,struct,sys
raw=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",raw[:8])[0]
h=json.loads(raw[8:8+n]); m=h["__metadata__"]
h["__metadata__"]={k:v for k,v in m.items() if not k.startswith("gen.")}
t=json.dumps(h).encode(); t+=b" "*(-len(t)%8)
open(sys.argv[2],"wb").write(struct.pack("<Q",len(t))+t+raw[8+n:])' "$model" "$TMP/nogen.safetensors"
        run energy --model "$TMP/nogen.safetensors" --samples 3 --quiet
        if [ $status -ne 1 ] || ! grep -q 'neither generator' "$TMP/err"; then
            fail "energy (no gen settings)" "expected exit 1 naming both kinds"; return
        fi
    fi
    expect_usage_error "energy --samples 0" "--samples" energy --model "$model" --samples 0 || return
    expect_usage_error "energy --temperature -1" "--temperature" energy --model "$model" --temperature -1 || return
    expect_usage_error "energy --network 784" "--network" energy --model "$model" --network 784 || return
    expect_usage_error "energy --network 7,,8" "--network" energy --model "$model" --network 7,,8 || return
    expect_usage_error "energy without --model" "--model" energy --samples 3 || return
    ok "energy: ratio table, paper's ratio, JSON, PNG, RAPL line, bad inputs rejected"
}

# thermo energy on a tiny protocol of 2 segments: the switching work and the
# first-law line in the report and the JSON, whose numbers agree with each
# other; a one-segment model has neither.
check_energy_protocol() {
    run train --preset tiny --segments 2 --samples 4 --out "$TMP/eseg" --quiet
    if [ $status -ne 0 ]; then fail "energy (train --segments 2)" "exit status $status"; return; fi
    run energy --model "$TMP/eseg/model.safetensors" --samples 16 --json "$TMP/eseg.json" --quiet
    if [ $status -ne 0 ] || ! no_nan || [ -s "$TMP/err" ]; then
        fail "energy (protocol)" "exit status $status, nan, or a message"; return
    fi
    local word
    for word in 'switch between 2 segments' '^  work      mean ' 'boundary of its 2 segments' \
        '^  first law dV = W - Q per sample: ' '+ 2 for the heat in each of 2 segments'; do
        if ! grep -q -- "$word" "$TMP/out"; then fail "energy (protocol)" "no line matching '$word'"; return; fi
    done
    if command -v python3 >/dev/null && ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
w=d["work_per_sample"]; f=d["first_law_per_sample"]
assert w["segments"] == 2 and w["sd_kT"] > 0
assert abs(f["work_minus_heat_mean_kT"] - (w["kT"] - d["heat_per_sample"]["mean_kT"])) < 1e-9
assert f["residual_max_abs_kT"] < 0.1' "$TMP/eseg.json" 2>"$TMP/err"; then
        fail "energy --json (protocol)" "work or first law missing or inconsistent: $(cat "$TMP/err")"; return
    fi
    run energy --model "$TMP/erun/model.safetensors" --samples 4 --quiet
    if [ $status -ne 0 ] || grep -q 'first law' "$TMP/out" || ! grep -q '^  work      0: ' "$TMP/out"; then
        fail "energy (one segment)" "expected the fixed computer's work line and no first law"; return
    fi
    ok "energy: a protocol's switching work and first law per sample; one segment unchanged"
}

# Output folders: missing ones are made with their parents (a fresh clone has
# no runs/); a folder that cannot be made is exit 1 naming it.
check_output_folders() {
    run train --preset tiny --updates 1 --samples 2 --out "$TMP/new/deep/run" --quiet
    if [ $status -ne 0 ] || [ ! -s "$TMP/new/deep/run/model.safetensors" ]; then
        fail "train --out new/deep/run" "exit status $status, or no model written"; return
    fi
    run sample --model "$TMP/new/deep/run/model.safetensors" --n 2 --out "$TMP/other/s.png" \
        --heat "$TMP/third/h.csv"
    if [ $status -ne 0 ] || [ ! -s "$TMP/other/s.png" ] || [ ! -s "$TMP/third/h.csv" ]; then
        fail "sample --out other/s.png" "exit status $status, or a file not written"; return
    fi
    : >"$TMP/a-file"
    run train --preset tiny --updates 1 --samples 2 --out "$TMP/a-file/run" --quiet
    if [ $status -ne 1 ] || ! grep -q "a-file/run: cannot create the folder" "$TMP/err"; then
        fail "train --out under a file" "expected exit 1 naming the folder"; return
    fi
    ok "output folders: made with their parents; a file in the way is exit 1 naming it"
}

check_help
check_output_folders
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
check_train_resume
check_sample
check_energy
check_energy_protocol

cli_summary
