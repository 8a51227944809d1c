# shellcheck shell=bash
# Helpers for scripts/run, scripts/test and CI; source it, it does nothing by itself. Every function is safe
# under `set -euo pipefail`, every wait is bounded, and every server it starts listens on loopback only.

HUTCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

hutch_say() { echo "hutch: $*" >&2; }

# The packages of scripts/deps.txt (or of the list FILE names) that dpkg does not report as installed, one per
# line.
hutch_missing_deps() {
  local list=${1:-$HUTCH_ROOT/scripts/deps.txt} package status
  while read -r package; do
    [[ -z $package || $package == \#* ]] && continue
    # shellcheck disable=SC2016 # ${db:Status-Status} is dpkg-query's format, not a shell expansion
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ $status == installed ]] || echo "$package"
  done <"$list"
}

# Installs what is missing from scripts/deps.txt (or from the list FILE names); silent when nothing is, apt's
# output only when it fails.
# shellcheck disable=SC2120 # the list is optional; scripts/run and scripts/test use the default
hutch_install_deps() {
  local missing=()
  mapfile -t missing < <(hutch_missing_deps "$@")
  ((${#missing[@]} == 0)) && return 0
  if ((EUID != 0)); then
    hutch_say "missing packages: ${missing[*]}"
    hutch_say "install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    return 1
  fi
  hutch_say "installing ${missing[*]}"
  local log
  log=$(mktemp)
  if ! {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    hutch_say "apt-get could not install: ${missing[*]}"
    return 1
  fi
  rm -f "$log"
}

# hutch_build [BUILD_TYPE] [BUILD_DIR] [CMAKE_ARGS...]: configure and build, Release into build/ by default.
# A relative BUILD_DIR is taken from the repository root.
hutch_build() {
  local build_type=${1:-Release} build_dir=${2:-build}
  if (($# > 2)); then shift 2; else shift $#; fi
  [[ $build_dir == /* ]] || build_dir=$HUTCH_ROOT/$build_dir
  # shellcheck disable=SC2046 # hutch_ccache_args prints separate words on purpose
  cmake -S "$HUTCH_ROOT" -B "$build_dir" --log-level=WARNING -DCMAKE_BUILD_TYPE="$build_type" $(hutch_ccache_args) "$@"
  cmake --build "$build_dir" -j "$(nproc)"
}

# The compiler launcher arguments for cmake when ccache is installed (a developer's machine; CI installs
# nothing for it): rebuilds of other checkouts and build folders then reuse each other's objects.
hutch_ccache_args() {
  command -v ccache >/dev/null 2>&1 || return 0
  echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
}

# hutch_build_targets BUILD_TYPE BUILD_DIR "TARGET..." [CMAKE_ARGS...]: configure and build only these
# targets (and what they depend on), e.g. the sanitized hutchd alone.
hutch_build_targets() {
  local build_type=$1 build_dir=$2 targets=$3
  shift 3
  [[ $build_dir == /* ]] || build_dir=$HUTCH_ROOT/$build_dir
  # shellcheck disable=SC2046 # hutch_ccache_args prints separate words on purpose
  cmake -S "$HUTCH_ROOT" -B "$build_dir" --log-level=WARNING -DCMAKE_BUILD_TYPE="$build_type" $(hutch_ccache_args) "$@"
  # shellcheck disable=SC2086 # the targets are separate words on purpose
  cmake --build "$build_dir" -j "$(nproc)" --target $targets
}

# True when something accepts TCP connections on ADDRESS:PORT.
hutch_port_in_use() {
  local address=$1 port=$2
  # shellcheck disable=SC2016 # $0 and $1 expand in the inner bash, which gets them as arguments
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$address" "$port" 2>/dev/null
}

# Prints a loopback TCP port nothing listens on, below Linux's ephemeral range so outgoing connections do
# not take it in the meantime.
hutch_free_port() {
  local attempt port
  for attempt in $(seq 1 100); do
    port=$((20000 + (RANDOM * 32768 + RANDOM + attempt) % 12000))
    if ! hutch_port_in_use 127.0.0.1 "$port"; then
      echo "$port"
      return 0
    fi
  done
  hutch_say "no free loopback port found in 100 tries"
  return 1
}

# True when a Redis server answers PING at URL (redis://HOST[:PORT][/DB] or unix:///PATH).
hutch_redis_ping() {
  local url=$1 reply
  case $url in
    unix://*) reply=$(timeout 2 redis-cli -s "${url#unix://}" PING 2>/dev/null) || return 1 ;;
    *) reply=$(timeout 2 redis-cli -u "$url" PING 2>/dev/null) || return 1 ;;
  esac
  [[ $reply == PONG ]]
}

# hutch_start_redis PORT DIR [ADDRESS]: a throwaway redis-server on ADDRESS:PORT (127.0.0.1 by default;
# loopback addresses only), no persistence, daemonized with its pidfile and log in DIR. Returns once PING
# answers (at most 10 s). hutch_stop_redis stops the last one started.
hutch_start_redis() {
  local port=$1 dir=$2 address=${3:-127.0.0.1}
  if [[ ! $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    hutch_say "cannot start redis-server on port '$port': use 1-65535"
    return 1
  fi
  if [[ $address != 127.* && $address != ::1 ]]; then
    hutch_say "refusing to start redis-server on $address: loopback addresses only"
    return 1
  fi
  if hutch_port_in_use "$address" "$port"; then
    hutch_say "cannot start redis-server on $address:$port: something already listens there"
    return 1
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  HUTCH_REDIS_PIDFILE=$dir/redis.pid
  HUTCH_REDIS_LOG=$dir/redis.log
  rm -f "$HUTCH_REDIS_PIDFILE"
  if ! redis-server --bind "$address" --port "$port" --save '' --appendonly no --protected-mode yes \
    --daemonize yes --pidfile "$HUTCH_REDIS_PIDFILE" --dir "$dir" --logfile "$HUTCH_REDIS_LOG"; then
    hutch_say "redis-server would not start on $address:$port"
    return 1
  fi
  local url="redis://$address:$port" attempt
  [[ $address == *:* ]] && url="redis://[$address]:$port"
  for attempt in $(seq 1 100); do
    if [[ -s $HUTCH_REDIS_PIDFILE ]] && hutch_redis_ping "$url"; then
      return 0
    fi
    sleep 0.1
  done
  hutch_say "redis-server did not answer on $address:$port within 10 s; its log:"
  tail -n 20 "$HUTCH_REDIS_LOG" >&2 || true
  hutch_stop_redis
  return 1
}

# True while PID runs. A zombie does not count: a daemon's parent is init, which may reap it late.
hutch_pid_running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

# Stops the redis-server of the last hutch_start_redis (TERM, then KILL after 5 s). Safe to call twice.
hutch_stop_redis() {
  local pidfile=${HUTCH_REDIS_PIDFILE:-} pid attempt
  [[ -n $pidfile && -s $pidfile ]] || return 0
  pid=$(<"$pidfile")
  # Only a redis-server: the pid may have been reused if it died on its own.
  if [[ $pid =~ ^[0-9]+$ ]] && [[ $(ps -o comm= -p "$pid" 2>/dev/null || true) == redis-server ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for attempt in $(seq 1 50); do
      hutch_pid_running "$pid" || break
      sleep 0.1
    done
    if hutch_pid_running "$pid"; then
      hutch_say "redis-server $pid ignored SIGTERM for 5 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# True on a host with the cgroup v2 unified hierarchy alone at /sys/fs/cgroup and systemd as PID 1: most
# production hosts. There a process shares its cgroup with whatever started it (a login session, a unit), and
# cgroup v2 lets no one enable controllers beneath a cgroup that holds processes, so hutchd needs a cgroup
# of its own, delegated to it: a unit with Delegate=yes (scripts/hutchd.service) or a scope (below).
hutch_v2_with_systemd() {
  [[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs && -d /run/systemd/system ]] &&
    command -v systemd-run >/dev/null 2>&1
}

# hutch_delegated_scope_argv NAME: sets HUTCH_SCOPE_ARGV to the words that run a command in a transient
# systemd scope NAME-<pid>.scope of its own with Delegate=yes (systemd-run --scope runs the command in its own
# process, with this environment), the system manager's as root, the user's otherwise. Empty where that does
# not apply (no cgroup v2 with systemd): `exec "${HUTCH_SCOPE_ARGV[@]}" COMMAND...` then runs COMMAND as it is.
hutch_delegated_scope_argv() {
  HUTCH_SCOPE_ARGV=()
  hutch_v2_with_systemd || return 0
  local manager=--system
  ((EUID == 0)) || manager=--user
  HUTCH_SCOPE_ARGV=(systemd-run "$manager" --scope --quiet --collect -p Delegate=yes --unit="$1-$$" --)
}

# hutch_in_test_cgroup COMMAND...: runs the test runner COMMAND so that the tests' hutchd processes get
# cgroups of their own. On a cgroup v2 host with systemd (as root): a delegated scope whose controllers are
# enabled, COMMAND in its leaf `runner`, and HUTCH_TEST_CGROUP naming the scope, in which the test fixture
# makes a sibling cgroup for each hutchd it starts (tests/support/test_cgroup.h). Elsewhere it just runs it.
hutch_in_test_cgroup() {
  if ! hutch_v2_with_systemd || ((EUID != 0)); then
    "$@"
    return
  fi
  hutch_delegated_scope_argv hutch-test
  # shellcheck disable=SC2016 # expanded by the inner bash, inside the scope
  "${HUTCH_SCOPE_ARGV[@]}" bash -c '
    own=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
    mkdir -p "$own/runner" && echo $$ >"$own/runner/cgroup.procs" &&
      echo "+memory +cpu +pids" >"$own/cgroup.subtree_control" || exit 1
    HUTCH_TEST_CGROUP=$own exec "$@"' hutch-test "$@"
}
