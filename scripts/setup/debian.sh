#!/usr/bin/env bash
# Installs the Debian packages a command of this repo needs, when they are missing: the list is
# scripts/setup/debian-packages.txt (one line per package, with the groups that need it).
#
#   bash scripts/setup/debian.sh test          # before `npm test` (npm's pretest) and in .ci/run
#   bash scripts/setup/debian.sh --optional start   # before `npm start`: a miss is a warning
#
# Nothing to do → silent. As root (or with password-less sudo) it runs apt-get; otherwise, or when
# apt-get fails, it says in one line what is missing and how to get it, and exits 1 (0 with
# --optional). Daemons the packages enable on install (bird, gobgpd, nginx, prometheus, and the
# distribution's PostgreSQL cluster on port 5432) are stopped and disabled: tests and the site
# start their own copies with their own configs.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list="$here/debian-packages.txt"

optional=0
groups=()
for a in "$@"; do
  case "$a" in
    --optional) optional=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) groups+=("$a") ;;
  esac
done
[ "${#groups[@]}" -gt 0 ] || groups=(test)
fail() { echo "setup: $*" >&2; [ "$optional" = 1 ] && exit 0; exit 1; }

# packages of the requested groups, with the program each provides
pkgs=()
declare -A prog
while read -r pkg grp cmd _; do
  case "$pkg" in ''|\#*) continue ;; esac
  for g in "${groups[@]}"; do
    if [[ ",$grp," == *",$g,"* ]]; then pkgs+=("$pkg"); prog[$pkg]="$cmd"; break; fi
  done
done < "$list"
[ "${#pkgs[@]}" -gt 0 ] || exit 0

has_program() {
  [ "$1" = - ] && return 1
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null | awk '$2 == "ii" { print $1 }')"
  for p in "${pkgs[@]}"; do grep -qx "$p" <<<"$installed" || missing+=("$p"); done
else
  # not Debian: judge by the programs alone, and say what to install
  for p in "${pkgs[@]}"; do [ "${prog[$p]}" = - ] || has_program "${prog[$p]}" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && exit 0
  fail "missing ${missing[*]} (Debian package names; no dpkg here, so install their equivalents yourself)"
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  fail "missing Debian packages ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}"
fi

echo "setup: installing ${missing[*]} (apt-get)"
log="$(mktemp -t edgebox-setup.XXXXXX)"
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1 ||
   ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  last="$(grep -E '^(E|W):' "$log" | tail -n 1)"
  fail "apt-get could not install ${missing[*]}: ${last:-see $log}"
fi
rm -f "$log"
for s in bird gobgpd nginx prometheus postgresql; do
  "${sudo[@]}" systemctl disable --now "$s" >/dev/null 2>&1 || "${sudo[@]}" service "$s" stop >/dev/null 2>&1 || true
done
exit 0
