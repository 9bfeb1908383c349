#!/usr/bin/env bash
# cli_test_spice.sh - checks of thermo spice without ngspice (make spice-check
# runs ngspice): help, a netlist of each kind with the elements it must hold,
# exit status 1 naming the reason for models that cannot be exported (too
# large, unknown kind, couplings the board cannot realise, a time-dependent
# protocol of several segments), 2 for bad command
# lines, and compare's refusals (no data yet, other options than the export's).
#
# usage: tests/cli_test_spice.sh path/to/thermo
set -u

CLI_NAME=cli_spice
. "$(dirname "$0")/cli_common.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Positive definite, but its comparison matrix is not an M-matrix: no
# capacitor network realises it (cli_test_linalg.sh has the same).
printf '%%%%MatrixMarket matrix array real symmetric\n4 4\n1\n-0.6\n0.3\n-0.6\n1\n-0.6\n0.3\n1\n-0.6\n1\n' \
    >"$TMP/bad.mtx"

# expect_failure NAME WORD ARGS...: thermo ARGS exits 1 and says WORD.
expect_failure() {
    local name=$1 word=$2
    shift 2
    run "$@"
    if [ $status -ne 1 ]; then fail "$name" "exit status $status, expected 1"; return 1; fi
    if ! grep -qF -- "$word" "$TMP/err"; then fail "$name" "the message does not name '$word'"; return 1; fi
    return 0
}

check_help() {
    run spice export --help
    if [ $status -ne 0 ] || ! grep -q -- '--capacitance' "$TMP/out" || ! grep -q 'TRNOISE' "$TMP/out"; then
        fail "spice export --help" "expected the options and the mapping"; return
    fi
    run spice compare --help
    if [ $status -ne 0 ] || ! grep -q -- '--results' "$TMP/out"; then
        fail "spice compare --help" "expected --results"; return
    fi
    run help
    if ! grep -q '^ *spice ' "$TMP/out"; then fail "help" "spice is not listed"; return; fi
    ok "spice export|compare --help list the options"
}

# The tiny generator: the netlist holds every part of the mapping.
check_generator() {
    run train --preset tiny --updates 1 --samples 2 --out "$TMP/tiny" --quiet
    if [ $status -ne 0 ]; then fail "train --preset tiny" "exit status $status"; return; fi
    run spice export --model "$TMP/tiny/model.safetensors" --out "$TMP/gen/net.cir" --copies 3
    if [ $status -ne 0 ]; then fail "spice export (generator)" "exit status $status"; return; fi
    local f="$TMP/gen/net.cir" word
    for word in '^\* thermo ' 'ngspice -b' 'V0 = sqrt' '^\.subckt computer sw$' \
        '^Cu0 u0 0 1e-12 IC=0$' '^Ru0 u0 0 1000000$' '^Iu0 u0 0 DC 0 TRNOISE(' '^Bu0 u0 0 I = ' \
        '^Bg49 g49 0 V = V(sw)\*V(u49)$' '^G0_49 u0 0 g49 0 ' '^Vsw sw 0 PWL(0 0 1e-07 0 ' \
        '^X2 sw computer$' '^\.tran 1e-09 2e-07 0 1e-09 uic$' '^\.save v(x0.u0) ' \
        '^wrdata .*/gen/net.data all$' '^\.end$'; do
        if ! grep -q -- "$word" "$f"; then fail "spice export (generator)" "no line matching '$word'"; return; fi
    done
    if ! grep -q 'wrdata' "$TMP/out" && ! grep -q 'net.data' "$TMP/out"; then
        fail "spice export (generator)" "the report does not name the data file"; return
    fi
    if grep -qi 'nan' "$f"; then fail "spice export (generator)" "the netlist holds nan"; return; fi
    ok "spice export: the tiny generator's netlist holds the units, gates, switch and analysis"
}

check_neuron_and_spu() {
    run neuron train --generations 1 --population 4 --elite 1 --eval-replicas 4 --out "$TMP/neu" --quiet
    if [ $status -ne 0 ]; then fail "neuron train" "exit status $status"; return; fi
    run spice export --model "$TMP/neu/network.safetensors" --out "$TMP/neu/net.cir" \
        --inputs 0,1 --copies 2 --noise-step 0.001
    if [ $status -ne 0 ]; then fail "spice export (neuron)" "exit status $status"; return; fi
    if ! grep -q '^V3_u0 k3_u0 0 DC 0.000203' "$TMP/neu/net.cir" || ! grep -q '^X3 k3_u0 computer$' "$TMP/neu/net.cir" \
        || ! grep -q '^Bu1 u1 0 I = .*V(u1)\*V(u1)\*V(u1) + ' "$TMP/neu/net.cir"; then
        fail "spice export (neuron)" "expected input sources at z V0 and cubic terms"; return
    fi
    run spice export --model "$ROOT/tests/fuzz/corpus_mtx/spd8.mtx" --out "$TMP/spu.cir"
    if [ $status -ne 0 ] || ! grep -q '^Cc0_1 v0 v1 ' "$TMP/spu.cir" || ! grep -q '^Lv7 v7 0 0.001 IC=0$' "$TMP/spu.cir"; then
        fail "spice export (SPU)" "expected the cells and coupling capacitors"; return
    fi
    ok "spice export: a neuron network (inputs as voltage sources) and the SPU board"
}

check_refusals() {
    expect_failure "spice export: unknown kind" "unknown kind 'samples'" \
        spice export --model "$TMP/tiny/samples.safetensors" --out "$TMP/x.cir" || return
    expect_failure "spice export: not realisable" "cannot realise" \
        spice export --model "$TMP/bad.mtx" --out "$TMP/x.cir" || return
    expect_failure "spice export: missing model" "no-such.safetensors" \
        spice export --model "$TMP/no-such.safetensors" --out "$TMP/x.cir" || return
    run train --preset tiny --hidden 300 --updates 1 --samples 2 --out "$TMP/big" --quiet
    if [ $status -ne 0 ]; then fail "train --hidden 300" "exit status $status"; return; fi
    expect_failure "spice export: too large" "too large for ngspice" \
        spice export --model "$TMP/big/model.safetensors" --out "$TMP/x.cir" || return
    run train --preset tiny --segments 2 --updates 1 --samples 2 --out "$TMP/seg" --quiet
    if [ $status -ne 0 ]; then fail "train --segments 2" "exit status $status"; return; fi
    expect_failure "spice export: a protocol" "time-dependent protocol of 2 segments" \
        spice export --model "$TMP/seg/model.safetensors" --out "$TMP/x.cir" || return
    expect_failure "spice compare: a protocol" "2 segments" \
        spice compare --model "$TMP/seg/model.safetensors" --out "$TMP/gen/net.cir" || return
    if [ -e "$TMP/x.cir" ]; then fail "spice export: refusals" "a refused export wrote a netlist"; return; fi
    expect_usage_error "spice: no sub-command" "export or compare" spice || return
    expect_usage_error "spice export: no --out" "--out" spice export --model "$TMP/bad.mtx" || return
    expect_usage_error "spice export: bad --inputs" "--inputs" \
        spice export --model "$TMP/neu/network.safetensors" --out "$TMP/x.cir" --inputs 0,zero || return
    expect_usage_error "spice export: bad --capacitance" "--capacitance" \
        spice export --model "$TMP/bad.mtx" --out "$TMP/x.cir" --capacitance -1 || return
    ok "spice export: exit 1 naming the reason (unknown kind, not realisable, too large, segments), 2 for bad options"
}

check_compare_refusals() {
    expect_failure "spice compare: no data" "cannot open" \
        spice compare --model "$TMP/tiny/model.safetensors" --out "$TMP/gen/net.cir" --copies 3 || return
    expect_failure "spice compare: other options" "differs from what these options export" \
        spice compare --model "$TMP/tiny/model.safetensors" --out "$TMP/gen/net.cir" --copies 4 || return
    ok "spice compare: exit 1 without ngspice's data or with other options than the export's"
}

check_help
check_generator
check_neuron_and_spu
check_refusals
check_compare_refusals
cli_summary
