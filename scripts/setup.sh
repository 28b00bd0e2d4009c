#!/bin/sh
# Installs what redisfs and its tests need, then builds. Idempotent, and quiet when all is there:
#   1. Debian packages, with apt-get (one `apt-get update`, only when something is missing);
#      skipped with a message when not root.
#   2. node_modules: `npm ci` only when it is missing or older than package-lock.json.
#   3. fuse-native rebuilt against Debian's libfuse2 with our patch (scripts/build-fuse-native.sh).
#   4. our libfuse3 low-level addon built against libfuse3-dev (scripts/build-fuse-lowlevel.sh).
#   5. dist/: `npm run build`.
set -eu
cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }

# Runtime: libfuse2 fuse3 redis-server. Building fuse-native: libfuse-dev pkg-config make g++
# python3 patch. Building the lowlevel binding: libfuse3-dev (+ pkg-config make g++ python3);
# the chunk checksum addon: libisal-dev (Intel ISA-L), optional.
# Tests: rsync git attr (setfattr/getfattr), tar/diff/find/du (essential anyway); the addon's
# leak test needs libasan, which g++ brings (g++-12 -> libgcc-12-dev -> libasan8), and
# python3 (signals, xattrs).
PKGS="libfuse2 fuse3 redis-server libfuse-dev libfuse3-dev pkg-config make g++ python3 patch rsync git attr openssl"
# Wanted, not needed: without it chunk checksums fall back to Node's zlib (same values, slower).
OPTIONAL_PKGS="libisal-dev"

if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $PKGS; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      say "missing Debian packages:$missing; not root, so not installing them (as root: apt-get install$missing)"
    elif ! command -v apt-get >/dev/null 2>&1; then
      say "missing Debian packages:$missing; no apt-get to install them"
    else
      say "installing:$missing"
      log=$(mktemp)
      if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
          && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rm -f "$log"
        say "apt-get failed"
        exit 1
      fi
      rm -f "$log"
    fi
  fi
  for p in $OPTIONAL_PKGS; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' && continue
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 \
      && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" \
        || { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
          && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p"; }; } >/dev/null 2>&1; then
      say "installed $p"
    else
      say "$p not installed: going on without it"
    fi
  done
else
  say "no dpkg-query: not Debian; make sure these (or their equivalents) are installed: $PKGS"
fi

[ -c /dev/fuse ] || say "warning: /dev/fuse is missing; mounts (and the *.fuse tests) will fail"

if [ ! -f node_modules/.package-lock.json ] \
  || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  say "installing node modules"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi

if [ -f scripts/build-fuse-native.sh ]; then
  sh scripts/build-fuse-native.sh
fi

if [ -f scripts/build-fuse-lowlevel.sh ]; then
  sh scripts/build-fuse-lowlevel.sh
fi

npm run --silent build
