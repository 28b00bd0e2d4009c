#!/bin/sh
# Builds fuse-native from source against Debian's libfuse2, with our patch applied
# (patches/fuse-native-2.2.6.patch: utimens passed atime as mtime; times travel in ns).
# Idempotent: does nothing when the patched build is already there.
set -eu
cd "$(dirname "$0")/.."
dir=node_modules/fuse-native
stamp="$dir/build/Release/.redisfs-patched-3"
[ -f "$stamp" ] && [ -f "$dir/build/Release/fuse.node" ] && exit 0
if ! pkg-config --exists fuse 2>/dev/null; then
  echo "redisfs: building fuse-native needs libfuse-dev and pkg-config (run scripts/setup.sh as root)" >&2
  exit 1
fi
if ! grep -q 'redisfs: the open flags, so O_CREAT without O_EXCL' "$dir/fuse-native.c"; then
  patch -s -p1 -N < patches/fuse-native-2.2.6.patch
fi
gyp=$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
nodedir=$(dirname "$(dirname "$(command -v node)")")
(cd "$dir" && node "$gyp" rebuild --nodedir="$nodedir" >/tmp/redisfs-fuse-native-build.log 2>&1) || {
  echo "redisfs: building fuse-native failed; see /tmp/redisfs-fuse-native-build.log" >&2
  exit 1
}
touch "$stamp"
