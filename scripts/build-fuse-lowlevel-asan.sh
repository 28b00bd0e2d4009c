#!/bin/sh
# Builds the lowlevel FUSE binding a second time, with AddressSanitizer, for the leak test
# (test/addon-leaks.fuse.test.ts): native/build-asan/redisfs_fuse.node. A plain gcc line, not
# node-gyp, so the normal build in native/build/ is never touched. Load it into a node started
# with LD_PRELOAD="$(gcc -print-file-name=libasan.so)" (node itself is not instrumented).
# Idempotent: does nothing when the addon is newer than its source.
set -eu
cd "$(dirname "$0")/.."
out=native/build-asan/redisfs_fuse.node
if [ -f "$out" ] && [ "$out" -nt native/redisfs_fuse.c ] && [ "$out" -nt "$0" ]; then
  exit 0
fi
cc=${CC:-gcc}
if ! pkg-config --exists fuse3 2>/dev/null; then
  echo "redisfs: the ASan build needs libfuse3-dev and pkg-config" >&2
  exit 1
fi
case "$($cc -print-file-name=libasan.so)" in
  /*) ;;
  *) echo "redisfs: $cc has no libasan (Debian: libasan8, which g++ pulls in)" >&2; exit 1 ;;
esac
nodeinc=$(dirname "$(dirname "$(command -v node)")")/include/node
[ -f "$nodeinc/node_api.h" ] || { echo "redisfs: no node_api.h under $nodeinc" >&2; exit 1; }
mkdir -p native/build-asan
# -O1 and frame pointers: ASan's own advice for usable stacks; -g: file:line in reports.
# shellcheck disable=SC2046
$cc -shared -fPIC -std=gnu11 -Wall -Wextra -Wno-unused-parameter -g -O1 -fno-omit-frame-pointer \
  -fsanitize=address -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=redisfs_fuse -I"$nodeinc" \
  $(pkg-config --cflags fuse3) native/redisfs_fuse.c $(pkg-config --libs fuse3) -o "$out.tmp"
mv "$out.tmp" "$out"
