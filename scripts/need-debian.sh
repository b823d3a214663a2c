#!/usr/bin/env bash
# Installs Debian packages a script or test needs, when the tools they provide are missing:
#   scripts/need-debian.sh TOOL:PACKAGE...     e.g.  scripts/need-debian.sh nginx:nginx-light wrk:wrk
# A tool counts as present on PATH or in /usr/sbin. Missing ones are installed with apt-get
# (as root; said on stderr first); when that is impossible the script fails, naming them.
set -euo pipefail

missing=() packages=()
for pair in "$@"; do
  tool=${pair%%:*} package=${pair#*:}
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { missing+=("$tool"); packages+=("$package"); }
done
((${#missing[@]})) || exit 0
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  printf 'error: needs %s (Debian: apt-get install %s)\n' "${missing[*]}" "${packages[*]}" >&2
  exit 1
fi
printf 'installing %s from Debian packages (apt-get install %s)\n' "${missing[*]}" "${packages[*]}" >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"; } >&2; then
  printf 'error: apt-get install %s failed\n' "${packages[*]}" >&2
  exit 1
fi
