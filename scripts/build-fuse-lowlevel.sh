#!/bin/sh
# Builds our N-API addons in C with node-gyp, from source (no prebuilt downloads):
#  - native/: the libfuse3 low-level binding, against Debian's libfuse3-dev (needed);
#  - native/checksum/: chunk checksums with Intel ISA-L, against libisal-dev (wanted: without
#    it chunks are checksummed by Node's zlib, slower, with the same values), so a failure
#    here is reported and the rest goes on.
# Idempotent: an addon newer than its sources is not rebuilt.
set -eu
cd "$(dirname "$0")/.."
gyp=$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
nodedir=$(dirname "$(dirname "$(command -v node)")")

out=native/build/Release/redisfs_fuse.node
if ! { [ -f "$out" ] && [ "$out" -nt native/redisfs_fuse.c ] && [ "$out" -nt native/binding.gyp ]; }; then
  if ! pkg-config --exists fuse3 2>/dev/null; then
    echo "redisfs: building the lowlevel FUSE binding needs libfuse3-dev and pkg-config (as root: apt-get install libfuse3-dev pkg-config)" >&2
    exit 1
  fi
  (cd native && node "$gyp" rebuild --nodedir="$nodedir" >/tmp/redisfs-fuse-lowlevel-build.log 2>&1) || {
    echo "redisfs: building the lowlevel FUSE binding failed; see /tmp/redisfs-fuse-lowlevel-build.log" >&2
    exit 1
  }
fi

sum=native/checksum/build/Release/redisfs_checksum.node
if ! { [ -f "$sum" ] && [ "$sum" -nt native/checksum/checksum.c ] && [ "$sum" -nt native/checksum/binding.gyp ]; }; then
  if ! pkg-config --exists libisal 2>/dev/null; then
    echo "redisfs: no libisal-dev: chunk checksums will use Node's zlib (slower; apt-get install libisal-dev)" >&2
  elif ! (cd native/checksum && node "$gyp" rebuild --nodedir="$nodedir" >/tmp/redisfs-checksum-build.log 2>&1); then
    echo "redisfs: building the checksum addon failed (see /tmp/redisfs-checksum-build.log): chunk checksums will use Node's zlib" >&2
  fi
fi
