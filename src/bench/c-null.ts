// Builds the C libfuse3 null filesystem of the "FUSE bindings" rows (src/bench/c/null_ll.c)
// into the run's directory: gcc $(pkg-config --cflags --libs fuse3). Built at every run, so the
// figure always comes from the source in the tree and no binary is kept in it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../../src/bench/c/null_ll.c', import.meta.url));

/** buildCNull returns the executable, or why it could not be built (one line). */
export function buildCNull(dir: string): { exe: string } | { error: string } {
  if (!existsSync(SOURCE)) return { error: `${SOURCE} is missing` };
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
  if (flags.error) return { error: 'pkg-config is not installed (apt-get install pkg-config libfuse3-dev)' };
  if (flags.status !== 0) return { error: 'pkg-config knows no fuse3 (apt-get install libfuse3-dev)' };
  const exe = join(dir, 'null_ll');
  const cc = spawnSync('gcc', ['-O2', '-Wall', '-o', exe, SOURCE, ...flags.stdout.trim().split(/\s+/)], { encoding: 'utf8' });
  if (cc.error) return { error: 'gcc is not installed (apt-get install gcc)' };
  if (cc.status !== 0) return { error: `gcc failed: ${cc.stderr.trim().split('\n')[0] ?? ''}` };
  return { exe };
}
