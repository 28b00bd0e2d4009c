#!/bin/sh
# Runs the whole test suite (vitest, see vitest.config.ts) and exits with its status. The last
# line of output is "N passed, N failed[, N skipped]" (test/support/summary-reporter.ts).
# Arguments go to vitest: sh scripts/test.sh test/posix.fuse.test.ts -t rename
set -eu
cd "$(dirname "$0")/.."
exec npx --no-install vitest run "$@"
