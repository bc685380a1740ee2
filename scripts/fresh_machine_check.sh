#!/usr/bin/env bash
# README's Quick start on a fresh Debian 12, as a new user would try it.
#
#   sudo bash scripts/fresh_machine_check.sh [--keep] [--quick]
#
# Builds a minimal Debian 12 (debootstrap --variant=minbase, plus python3 and git) in a folder of
# its own under a temporary directory, clones this repository's committed HEAD into it for a
# normal user, installs ONLY the packages README's Debian lines name, and runs README's two
# commands inside it (chroot) as that user: the demo until the desktop's sign-in window is shown
# (offscreen, and in a real X11 window when Xvfb is installed on this machine), and the whole
# test suite with the private PostgreSQL cluster (Debian's postgresql package installed, its
# service never started). Before that it checks the failure paths a new user meets first: no
# python3-venv (and a half-made .venv left behind), no PostgreSQL at all. Prints each step's
# outcome and time; every mount is undone and the folder removed at exit (--keep keeps it).
#   --quick   only tests/unit instead of the whole suite (to try this script itself)
# FRESH_CHECK_MIRROR overrides the Debian mirror (default: the one this machine's apt uses);
# FRESH_CHECK_DEB_CACHE names a folder that keeps downloaded .debs between runs.
# Not part of .ci/run: it takes 20-40 minutes.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KEEP=0 QUICK=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    --quick) QUICK=1 ;;
    *) echo "usage: sudo bash scripts/fresh_machine_check.sh [--keep] [--quick]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "fresh_machine_check.sh needs root (debootstrap, chroot, mounts)." >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "fresh_machine_check.sh needs debootstrap: apt-get install debootstrap" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/var/tmp}/parking-fresh-check.XXXXXX")"
R="$WORK/root"
LOGS="$WORK/logs"
mkdir -p "$R" "$LOGS"
USER_NAME=parker
CLONE="/home/$USER_NAME/parking-desktop"
XVFB_PID=""
SUMMARY=()
FAILED=0

# --- cleanup: processes left in the chroot, mounts (innermost first), then the folder ---
mounted_under_root() { awk -v r="$R" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts | sort -r; }
cleanup() {
  local pid mount
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$R" ] && kill -KILL "$pid" 2>/dev/null || true
  done
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
  sleep 1
  for mount in $(mounted_under_root); do umount -l "$mount" 2>/dev/null || true; done
  if [ -n "$(mounted_under_root)" ]; then
    echo "Still mounted under $R, not removing it: $(mounted_under_root | tr '\n' ' ')" >&2
  elif [ "$KEEP" = 1 ]; then
    echo "Kept: $R (logs: $LOGS)"
  else
    rm -rf --one-file-system "$R"
    echo "Logs: $LOGS"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME EXPECT COMMAND...: run it, log to a file, print the outcome and the time.
# EXPECT is "ok" (must exit 0) or "fails" (must exit non-zero: a failure path).
step() {
  local name="$1" expect="$2" log start rc outcome
  shift 2
  log="$LOGS/$(printf '%02d' $(( ${#SUMMARY[@]} + 1 )))-$(tr -c 'a-zA-Z0-9\n' '-' <<<"$name" | cut -c1-40).log"
  start=$(date +%s)
  set +e
  "$@" >"$log" 2>&1
  rc=$?
  LAST_LOG="$log"
  set -e
  if { [ "$expect" = ok ] && [ "$rc" = 0 ]; } || { [ "$expect" = fails ] && [ "$rc" != 0 ]; }; then
    outcome="ok  "
  else
    outcome="FAIL"
    FAILED=1
  fi
  SUMMARY+=("$(printf '[%s] %-72s %5ss  exit %s' "$outcome" "$name" "$(( $(date +%s) - start ))" "$rc")")
  echo "${SUMMARY[-1]}"
  if [ "$outcome" = FAIL ] || [ "$expect" = fails ]; then tail -n 3 "$log" | sed 's/^/        | /' | cut -c1-220; fi
  [ "$outcome" = "ok  " ]
}

# The mirror this machine's apt uses (deb822 or one-line sources), for debootstrap.
mirror() {
  if [ -n "${FRESH_CHECK_MIRROR:-}" ]; then echo "$FRESH_CHECK_MIRROR"; return; fi
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE '(^URIs:|^deb) +https?://[^ ]+/debian/?( |$)' | grep -oE 'https?://[^ ]+' | head -n 1 \
    || true
}
MIRROR="$(mirror)"; MIRROR="${MIRROR:-http://deb.debian.org/debian}"

in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
# A login-like environment for the normal user: nothing of ours leaks in but pip's settings.
# OFFLINE=1: in a network namespace of its own with only loopback, so that a PostgreSQL of this
# machine on 127.0.0.1:5432 cannot be seen from inside (a fresh machine has none).
OFFLINE=0
offline() {
  if [ "$OFFLINE" = 1 ]; then
    unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
  else
    "$@"
  fi
}
as_user() {
  offline chroot --userspec="$USER_NAME:$USER_NAME" "$R" env -i HOME="/home/$USER_NAME" USER="$USER_NAME" \
    LOGNAME="$USER_NAME" SHELL=/bin/bash PATH=/usr/local/bin:/usr/bin:/bin "${PIP_ENV[@]}" \
    "${EXTRA_ENV[@]}" bash -c "cd $CLONE && $1"
}
as_root_user() {
  offline chroot "$R" env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${PIP_ENV[@]}" \
    "${EXTRA_ENV[@]}" bash -c "cd /root/parking-desktop && $1"
}
EXTRA_ENV=()

# README's Debian/Ubuntu install lines: `sudo apt-get install ...` in "Quick start".
readme_lines() {
  awk '/^## Quick start/ {on=1; next} /^## / {on=0} on' "$REPO/README.md" \
    | grep -E '^ *sudo apt-get install ' | sed -E 's/^ *sudo //'
}
install_readme_packages() {   # install_readme_packages with|without-postgresql
  local line
  while read -r line; do
    if [[ "$line" == *postgresql* ]] && [ "$1" = without-postgresql ]; then continue; fi
    if [[ "$line" != *postgresql* ]] && [ "$1" = only-postgresql ]; then continue; fi
    echo "+ $line"
    # shellcheck disable=SC2086  # the README line, word by word
    in_root ${line/apt-get install/apt-get install -y} || return 1
  done < <(readme_lines)
}

# pip inside the chroot needs what pip needs here to reach its index: the host's pip
# configuration (files and PIP_* variables) and what they refer to (a CA bundle, a constraints
# file, local wheel folders, read-only).
PIP_ENV=()
copy_pip_configuration() {
  local files=() f path
  while IFS='=' read -r name value; do PIP_ENV+=("$name=$value"); done < <(env | grep -E '^PIP_' || true)
  for f in /etc/pip.conf /etc/xdg/pip/pip.conf /etc/xdg/pip/constraints.txt; do
    [ -f "$f" ] && { mkdir -p "$R$(dirname "$f")"; cp "$f" "$R$f"; files+=("$f"); }
  done
  for f in "${HOME:-/root}/.config/pip/pip.conf" "${HOME:-/root}/.pip/pip.conf"; do
    if [ -f "$f" ]; then
      for home in "/home/$USER_NAME" /root; do
        mkdir -p "$R$home/.config/pip"; cp "$f" "$R$home/.config/pip/pip.conf"
      done
      chown -R "$USER_NAME:" "$R/home/$USER_NAME/.config" 2>/dev/null \
        || in_root chown -R "$USER_NAME:$USER_NAME" "/home/$USER_NAME/.config"
      files+=("$f")
    fi
  done
  for path in $( { cat "${files[@]}" 2>/dev/null; printf '%s\n' "${PIP_ENV[@]}"; } \
      | grep -v '^ *#' | grep -oE '(file://)?/[^ ,"'"'"']+' | sed 's|^file://||; s|/simple/*$||' \
      | sort -u); do   # a local index's files lie beside its simple/ folder: mount its root
    [ "$path" -ef "$R$path" ] && continue   # copied or mounted already
    if [ -d "$path" ]; then
      [ -e "$R$path" ] && ! mountpoint -q "$R$path" && [ -n "$(ls -A "$R$path")" ] && continue
      mkdir -p "$R$path"
      mountpoint -q "$R$path" || mount --bind -o ro "$path" "$R$path" 2>/dev/null \
        || { mount --bind "$path" "$R$path" && mount -o remount,bind,ro "$R$path"; }
    elif [ -f "$path" ]; then
      mkdir -p "$R$(dirname "$path")"; cp "$path" "$R$path"; chmod a+r "$R$path"
    fi
  done
}

echo "Fresh-machine check of $(git -C "$REPO" log -1 --format='%h %s' | cut -c1-70)"
echo "Debian 12 root in $R (mirror $MIRROR); logs in $LOGS"

step "debootstrap: minimal Debian 12 (minbase) + python3, git" ok \
  debootstrap --variant=minbase --include=python3,git \
  ${FRESH_CHECK_DEB_CACHE:+--cache-dir="$FRESH_CHECK_DEB_CACHE"} bookworm "$R" "$MIRROR" || exit 1

# What a booted system has: /proc, /sys, /dev (with /dev/shm for PostgreSQL), name resolution.
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev"
cp /etc/resolv.conf "$R/etc/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
# Services are never started by package installs in here (no init system runs).
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
in_root useradd --create-home --shell /bin/bash "$USER_NAME"
git clone --quiet --no-hardlinks "$REPO" "$R$CLONE"
git clone --quiet --no-hardlinks "$REPO" "$R/root/parking-desktop"
in_root chown -R "$USER_NAME:$USER_NAME" "$CLONE"
step "apt-get update in the new system" ok in_root apt-get update || exit 1
copy_pip_configuration

# 1. The first thing a new user meets: Debian's python3 without python3-venv.
step "demo.sh without python3-venv: stops, one line names python3-venv" fails \
  as_user 'QT_QPA_PLATFORM=offscreen bash scripts/demo.sh' || true
grep -q python3-venv "$LAST_LOG" \
  || { echo "        | the message does not name python3-venv"; FAILED=1; }
# ...and the half-made .venv such a first try with `python3 -m venv` leaves behind.
step "python3 -m venv without python3-venv: fails, leaves a half-made .venv" ok \
  as_user '! python3 -m venv .venv && test -x .venv/bin/python && ! .venv/bin/python -m pip --version' || true

# 2. With python3-venv (the first package of README's first line) but no Qt libraries yet:
# one pass names every missing library, those of a real X11 window included.
step "apt-get install python3-venv (only that, from README's first line)" ok \
  in_root apt-get install -y python3-venv || exit 1
copy_pip_configuration   # again: a package install may have rewritten the CA bundle
step "demo.sh (display, no Qt libraries): broken .venv remade; one line, every package" fails \
  as_user 'DISPLAY=:99 bash scripts/demo.sh' || true
grep -q "Removing the broken .venv" "$LAST_LOG" \
  || { echo "        | the half-made .venv was not removed"; FAILED=1; }
for pkg in libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libgl1 libdbus-1-3 libxcb-cursor0 \
    libxcb-icccm4 libxcb-keysyms1; do
  grep -q -- "sudo apt-get install .*$pkg" "$LAST_LOG" \
    || { echo "        | the install line does not name $pkg"; FAILED=1; }
done

step "install README's Debian packages (not postgresql yet)" ok install_readme_packages without-postgresql || exit 1
copy_pip_configuration

# 3. The demo: offscreen, until the sign-in window of the desktop is shown, then stopped.
demo_until_signin() {   # demo_until_signin user|root ENVIRONMENT...: README's demo command
  local who="$1" log pid waited=0 runner=as_user
  shift
  log="$(mktemp "$WORK/demo-$who.XXXXXX.log")"   # a new file: never an earlier run's lines
  [ "$who" = root ] && runner=as_root_user
  EXTRA_ENV=("$@" "QT_LOGGING_RULES=qt.widgets.showhide=true")
  setsid bash -c "$(declare -f offline as_user as_root_user); $(declare -p R USER_NAME CLONE PIP_ENV EXTRA_ENV OFFLINE)
    $runner 'bash scripts/demo.sh'" >"$log" 2>&1 &
  pid=$!
  EXTRA_ENV=()
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 900 ]; do
    if grep -qE 'Setting visibility of SignInDialog.* to true' "$log"; then break; fi
    sleep 2; waited=$((waited + 2))
  done
  grep -vE '^qt\.widgets' "$log" | tail -n 5
  if grep -qE 'Setting visibility of SignInDialog.* to true' "$log"; then
    kill -TERM -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    echo "the desktop's sign-in window was shown after ${waited}s; demo stopped"
    return 0
  fi
  if kill -0 "$pid" 2>/dev/null; then
    echo "no sign-in window after ${waited}s"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid"; echo "the demo ended (exit $?) without showing the sign-in window"
  return 1
}
step "bash scripts/demo.sh (normal user, offscreen): desktop up" ok \
  demo_until_signin user QT_QPA_PLATFORM=offscreen || true
step "demo-data.sign-ins.txt is private (0600)" ok \
  bash -c "stat -c '%a %U %n' '$R$CLONE/demo-data.sign-ins.txt'; [ \"\$(stat -c %a '$R$CLONE/demo-data.sign-ins.txt')\" = 600 ]" || true

# A real X11 window (the xcb platform plugin and its libraries) when this machine has Xvfb:
# its socket is shared into the chroot; nothing is installed in there for it.
if command -v Xvfb >/dev/null; then
  mkdir -p "$WORK/x11" "$R/tmp/.X11-unix"
  exec 9>"$WORK/x11/display"
  Xvfb -displayfd 9 -nolisten tcp -screen 0 1280x800x24 >"$WORK/xvfb.log" 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 1 30); do [ -s "$WORK/x11/display" ] && break; sleep 1; done
  exec 9>&-
  DISPLAY_NUMBER="$(cat "$WORK/x11/display")"
  mount --bind /tmp/.X11-unix "$R/tmp/.X11-unix"
  step "bash scripts/demo.sh (normal user, real X11 window via xcb on Xvfb :$DISPLAY_NUMBER)" ok \
    demo_until_signin user "DISPLAY=:$DISPLAY_NUMBER" || true
  kill "$XVFB_PID" 2>/dev/null || true; wait "$XVFB_PID" 2>/dev/null || true; XVFB_PID=""
  umount "$R/tmp/.X11-unix"
else
  echo "[skip] a real X11 window: install xvfb on this machine to try the xcb platform too"
fi

# 4. The tests without any PostgreSQL: one line, at once. test.sh runs offline from here on (see
# OFFLINE); its first part, the .venv with the test tools, is made just before, with the network.
step "scripts/_venv.sh test (test.sh's first part; it needs pip's network)" ok \
  as_user 'bash scripts/_venv.sh test' || true
OFFLINE=1
step "test.sh without PostgreSQL: stops at once, one line (install / PARKING_TEST_SKIP_PG=1)" fails \
  as_user 'bash scripts/test.sh' || true
OFFLINE=0
grep -q PARKING_TEST_SKIP_PG "$LAST_LOG" \
  || { echo "        | the message does not mention PARKING_TEST_SKIP_PG"; FAILED=1; }

step "install README's postgresql line (its service is not started)" ok install_readme_packages only-postgresql || exit 1
copy_pip_configuration

# 5. The whole suite, as a normal user, on a private throw-away cluster.
if [ "$QUICK" = 1 ]; then TESTS="tests/unit"; else TESTS=""; fi
OFFLINE=1
step "bash scripts/test.sh ${TESTS:-(whole suite)} (normal user, private PostgreSQL cluster)" ok \
  as_user "bash scripts/test.sh $TESTS" || true
OFFLINE=0
tail -n 2 "$LAST_LOG" | sed 's/^/        | /'
step "no PostgreSQL left running, its temporary folder removed" ok \
  bash -c "! ls -d '$R'/tmp/parking-test-pg.* 2>/dev/null && ! (for p in /proc/[0-9]*; do [ \"\$(readlink \$p/root)\" = '$R' ] && cat \$p/comm; done) | grep -q postgres"

# 6. As root: the demo, and the tests' private cluster (run as "nobody") on a subset.
step "bash scripts/demo.sh as root (offscreen)" ok demo_until_signin root QT_QPA_PLATFORM=offscreen || true
step "scripts/_venv.sh test as root (network)" ok as_root_user 'bash scripts/_venv.sh test' || true
OFFLINE=1
step "bash scripts/test.sh tests/unit tests/integration/test_smoke.py as root (cluster runs as nobody)" ok \
  as_root_user "bash scripts/test.sh tests/unit tests/integration/test_smoke.py" || true
OFFLINE=0

echo
echo "Summary:"
printf '%s\n' "${SUMMARY[@]}"
[ "$FAILED" = 0 ] && echo "All steps as expected." || echo "Some steps did not go as expected: see the logs."
exit "$FAILED"
