// Prints one plain line after the run, as the last line of output:
//   N passed, N failed[, N skipped]
// Every test case counts once. A test file that failed outside its tests (import error, a
// beforeAll/afterAll hook) counts as one more failure, tests skipped because their suite's hook
// failed count as failed, every unhandled error counts as a failure, and so does a FUSE mount
// or daemon that the run left behind (checked before the global teardown cleans it up).
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, TestSuite, Vitest } from 'vitest/node';

function hasErrors(entity: TestSuite | TestModule): boolean {
  return entity.errors().length > 0 || entity.state() === 'failed';
}

/** True if a failure of a suite or module above `t` explains why `t` did not run. */
function skippedByFailedHook(t: TestCase): boolean {
  if (t.options.mode !== 'run' && t.options.mode !== 'only') return false;
  let parent: TestSuite | TestModule = t.parent;
  for (;;) {
    if (parent.errors().length > 0) return true;
    if (parent.type === 'module') return false;
    parent = parent.parent;
  }
}

/** Mounts and live daemons of this run's temp roots (named redisfs-test-<our pid>-*). */
async function leftovers(): Promise<string[]> {
  const prefix = path.join(os.tmpdir(), `redisfs-test-${process.pid}-`);
  const found: string[] = [];
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  for (const line of mounts.split('\n')) {
    const mp = line.split(' ')[1];
    if (mp?.startsWith(prefix)) found.push(`mount ${mp}`);
  }
  const roots = (await readdir(os.tmpdir()).catch(() => [] as string[]))
    .map((n) => path.join(os.tmpdir(), n))
    .filter((p) => p.startsWith(prefix));
  for (const root of roots) {
    for (const f of await readdir(path.join(root, 'pids')).catch(() => [] as string[])) {
      const m = /^daemon-(\d+)$/.exec(f);
      if (!m) continue;
      const stat = await readFile(`/proc/${m[1]}/stat`, 'utf8').catch(() => '');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (stat !== '' && state !== 'Z') found.push(`daemon pid ${m[1]}`);
    }
  }
  return found;
}

export default class SummaryReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  async onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): Promise<void> {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let failedHere = 0;
      for (const t of mod.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else if (state === 'skipped') {
          if (skippedByFailedHook(t)) failedHere++;
          else skipped++;
        } else failedHere++; // pending at the end: it never finished
      }
      const moduleBroken = hasErrors(mod) || [...mod.children.allSuites()].some((s) => s.errors().length > 0);
      if (failedHere === 0 && moduleBroken) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    const leaks = await leftovers();
    const log = (s: string): void => {
      if (this.vitest) this.vitest.logger.log(s);
      else process.stdout.write(`${s}\n`);
    };
    if (leaks.length > 0) {
      failed++;
      log(`redisfs tests: left behind after all test files finished (a bug in a test's cleanup): ${leaks.join(', ')}`);
    }
    log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  }
}
