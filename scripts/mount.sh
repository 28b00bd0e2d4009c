#!/bin/sh
# The quick start's first command: `npm run mount -- /mnt/redisfs [redisfs mount options]`.
# Installs what is missing, creates the mountpoint if needed, then mounts.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
[ $# -ge 1 ] || { echo "usage: npm run mount -- <mountpoint> [options]" >&2; exit 2; }
case "$1" in -*) ;; *) mkdir -p "$1" ;; esac
exec node dist/cli/main.js mount "$@"
