# cli_common.sh - what the command-line check scripts (tests/cli_*.sh) share:
# the thermo under test, a scratch folder, run/ok/fail/no_nan,
# expect_usage_error, and the summary.
# Source it after setting CLI_NAME; call cli_summary last.

THERMO=${1:?usage: $0 path/to/thermo}
if [ ! -x "$THERMO" ]; then
    echo "$CLI_NAME: '$THERMO' is not an executable"
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

# expect_usage_error NAME WORD ARGS...: thermo ARGS exits 2 and says WORD.
expect_usage_error() {
    local name=$1 word=$2
    shift 2
    run "$@"
    if [ $status -ne 2 ]; then fail "$name" "exit status $status, expected 2"; return 1; fi
    if ! grep -qF -- "$word" "$TMP/err"; then fail "$name" "the message does not name '$word'"; return 1; fi
    return 0
}

# Prints the count line and returns non-zero when any check failed.
cli_summary() {
    echo "$CLI_NAME: $passed passed, $failed failed"
    [ $failed -eq 0 ]
}
