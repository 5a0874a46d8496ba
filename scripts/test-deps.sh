#!/usr/bin/env bash
# Run before `npm test` (npm's pretest): the Debian packages the tests use, installed when
# missing (as root, with apt-get), else a clear message saying what to install.
# - openssl: the discovery tests generate TLS certificates at test time;
# - prometheus: the telemetry tests check /metrics with Prometheus' own promtool and scrape
#   pidpilot with a real Prometheus server;
# - util-linux (unshare): the PID 1 tests run pidpilot in a new PID namespace;
# - podman, runc, busybox-static: the container tests (test/container/) build docker/Dockerfile
#   on a base image made from this machine's Node and busybox, and run it (runc: crun refuses
#   hosts with hybrid cgroups);
# - chromium: the dashboard test loads the page in headless Chromium (DevTools protocol);
# - tmux: the `pidpilot top` test runs it in a tmux pane (send-keys, capture-pane);
# - zsh, fish: the completion tests run the generated scripts in the real shells (zsh in tmux).
set -euo pipefail
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || missing+=(prometheus)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the Debian packages the tests use: ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
else
  echo "the tests need these packages: ${missing[*]} (Debian: apt-get install ${missing[*]}); install them, then run npm test again" >&2
  exit 1
fi
