#!/usr/bin/env bash
# hutch-fn run the way hutchd runs it: input on stdin, result on fd 3. Usage: hutch_fn_test.sh PATH/TO/hutch-fn
set -euo pipefail

hutch_fn=$1
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check NAME EXPECTED_EXIT EXPECTED_STDOUT EXPECTED_RESULT INPUT [ARGS...]
check() {
  local name=$1 want_exit=$2 want_stdout=$3 want_result=$4 input=$5
  shift 5
  local got_exit=0
  printf '%s' "$input" | "$hutch_fn" "$@" >"$work/out" 2>"$work/err" 3>"$work/result" || got_exit=$?
  local got_stdout got_result
  got_stdout=$(cat "$work/out")
  got_result=$(cat "$work/result")
  if [[ $got_exit != "$want_exit" || $got_stdout != "$want_stdout" || $got_result != "$want_result" ]]; then
    echo "FAIL $name: exit $got_exit (want $want_exit), stdout '$got_stdout' (want '$want_stdout')," \
      "result '$got_result' (want '$want_result'), stderr: $(cat "$work/err")"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

check "list" 0 $'hello\nsleep' "" "" --list
check "hello Ada" 0 "Hello, Ada" '"Hello, Ada"' '{"name":"Ada"}' hello
check "hello null" 0 "Hello, World" '"Hello, World"' 'null' hello
check "hello empty stdin" 0 "Hello, World" '"Hello, World"' '' hello
check "hello no name" 0 "Hello, World" '"Hello, World"' '{}' hello
check "hello not an object" 2 "" "" '[1]' hello
check "hello name not a string" 2 "" "" '{"name":5}' hello
check "hello not JSON" 2 "" "" '{name' hello
check "sleep 0" 0 "sleeping 0 s" '{"slept":0}' '{"seconds":0}' sleep
check "sleep 0.2" 0 "sleeping 0.2 s" '{"slept":0.2}' '{"seconds":0.2}' sleep
check "sleep too long" 2 "" "" '{"seconds":301}' sleep
check "sleep negative" 2 "" "" '{"seconds":-1}' sleep
check "sleep not a number" 2 "" "" '{"seconds":"5"}' sleep
check "unknown builtin" 2 "" "" '' nope

# Without fd 3 the result goes to stdout.
got=$(printf '{"name":"Ada"}' | "$hutch_fn" hello 3>&-)
if [[ $got != $'Hello, Ada\n"Hello, Ada"' ]]; then
  echo "FAIL no fd 3: stdout '$got'"
  failures=$((failures + 1))
else
  echo "ok   no fd 3"
fi

# Every listed built-in dispatches (nothing in the list without code behind it).
while read -r name; do
  check "runs $name" 0 "$([[ $name == sleep ]] && echo 'sleeping 0 s' || echo 'Hello, World')" \
    "$([[ $name == sleep ]] && echo '{"slept":0}' || echo '"Hello, World"')" '{"seconds":0}' "$name"
done < <("$hutch_fn" --list)

exit $((failures > 0))
