#!/bin/sh
# Builds our libfuse3 low-level binding (native/, an N-API addon in C) against Debian's
# libfuse3-dev with node-gyp, from source (no prebuilt downloads). Idempotent: does nothing
# when the addon is newer than its sources.
set -eu
cd "$(dirname "$0")/.."
out=native/build/Release/redisfs_fuse.node
sum=native/build/Release/redisfs_checksum.node
# The checksum addon (native/checksum.c) is built when libisal-dev is there; without it chunks
# are checksummed by Node's zlib, slower, with the same values.
if [ -f "$out" ] && [ "$out" -nt native/redisfs_fuse.c ] && [ "$out" -nt native/binding.gyp ] \
  && { ! pkg-config --exists libisal 2>/dev/null || { [ -f "$sum" ] && [ "$sum" -nt native/checksum.c ]; }; }; then
  exit 0
fi
if ! pkg-config --exists fuse3 2>/dev/null; then
  echo "redisfs: building the lowlevel FUSE binding needs libfuse3-dev and pkg-config (as root: apt-get install libfuse3-dev pkg-config)" >&2
  exit 1
fi
gyp=$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
nodedir=$(dirname "$(dirname "$(command -v node)")")
(cd native && node "$gyp" rebuild --nodedir="$nodedir" >/tmp/redisfs-fuse-lowlevel-build.log 2>&1) || {
  echo "redisfs: building the lowlevel FUSE binding failed; see /tmp/redisfs-fuse-lowlevel-build.log" >&2
  exit 1
}
