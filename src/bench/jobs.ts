// The jobs a benchmark worker runs: plain synchronous file I/O on directories of a mounted
// target, timed with hrtime. They run in worker processes (worker.ts), never in the process
// that serves a mount, nor in the bench's main process.
import {
  closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmdirSync, statSync,
  unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export type Job =
  | { kind: 'seqWrite'; file: string; bytes: number; block: number; unlink?: boolean }
  | { kind: 'seqRead'; file: string; block: number; passes: number }
  | { kind: 'smallCreate'; dir: string; count: number; size: number }
  | { kind: 'smallStat'; dir: string }
  | { kind: 'smallRead'; dir: string }
  | { kind: 'smallDelete'; dir: string }
  | { kind: 'meta'; dir: string; count: number }
  | { kind: 'randRead'; file: string; count: number; block: number }
  | { kind: 'openRead'; file: string; seconds: number }
  | { kind: 'statLoop'; files: string[]; seconds: number }
  | { kind: 'visibility'; writeDir: string; readDir: string; mode: 'overwrite' | 'new'; rounds: number; timeoutMs: number; budgetMs: number; pollUs: number };

/** What a job measured: ops and bytes over seconds, plus job-specific figures. */
export interface JobResult {
  ops: number;
  bytes: number;
  seconds: number;
  /** Wall-clock start and end (ms since the epoch), to add up parallel workers. */
  startMs: number;
  endMs: number;
  extra: Record<string, number | number[]>;
}

export function runJob(job: Job): JobResult {
  switch (job.kind) {
    case 'seqWrite': {
      const r = seqWrite(job.file, job.bytes, job.block);
      if (job.unlink) unlinkSync(job.file); // untimed: keeps the store from filling up
      return r;
    }
    case 'seqRead': return seqRead(job.file, job.block, job.passes);
    case 'smallCreate': return smallCreate(job.dir, job.count, job.size);
    case 'smallStat': return timed(() => {
      const names = readdirSync(job.dir);
      for (const n of names) statSync(join(job.dir, n));
      return { ops: names.length, bytes: 0 };
    });
    case 'smallRead': return timed(() => {
      let bytes = 0;
      const names = readdirSync(job.dir);
      for (const n of names) bytes += readFileSync(join(job.dir, n)).length;
      return { ops: names.length, bytes };
    });
    case 'smallDelete': return timed(() => {
      const names = readdirSync(job.dir);
      for (const n of names) unlinkSync(join(job.dir, n));
      rmdirSync(job.dir);
      return { ops: names.length, bytes: 0 };
    });
    case 'meta': return meta(job.dir, job.count);
    case 'randRead': return randRead(job.file, job.count, job.block);
    case 'openRead': return openRead(job.file, job.seconds);
    case 'statLoop': return statLoop(job.files, job.seconds);
    case 'visibility': return visibility(job);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** sleepSync blocks this worker for `ms` (fractions allowed) without spinning. */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

const nowS = (): number => Number(process.hrtime.bigint()) / 1e9;

function timed(work: () => { ops: number; bytes: number; extra?: Record<string, number | number[]> }): JobResult {
  const startMs = Date.now();
  const t0 = nowS();
  const cpu0 = process.cpuUsage();
  const r = work();
  const seconds = nowS() - t0;
  const cpu = process.cpuUsage(cpu0);
  // The worker's own CPU (its system calls include the kernel's copies for it): part of a
  // workload's CPU budget (main.ts, cold read).
  const extra = { ...r.extra, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  return { ops: r.ops, bytes: r.bytes, seconds, startMs, endMs: Date.now(), extra };
}

// Pattern bytes, not zeros: a filesystem may not skip or compress what it is given.
function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i);
  return b;
}

function seqWrite(file: string, bytes: number, block: number): JobResult {
  const buf = pattern(block);
  return timed(() => {
    const fd = openSync(file, 'w');
    let done = 0;
    while (done < bytes) done += writeSync(fd, buf, 0, Math.min(block, bytes - done));
    closeSync(fd); // close commits (redisfs) or flushes (sshfs): part of the cost
    return { ops: Math.ceil(bytes / block), bytes: done };
  });
}

function seqRead(file: string, block: number, passes: number): JobResult {
  const buf = Buffer.allocUnsafe(block);
  return timed(() => {
    let bytes = 0;
    let ops = 0;
    for (let p = 0; p < passes; p++) {
      const fd = openSync(file, 'r');
      for (;;) {
        const n = readSync(fd, buf, 0, block, null);
        if (n === 0) break;
        bytes += n;
        ops++;
      }
      closeSync(fd);
    }
    return { ops, bytes };
  });
}

function smallCreate(dir: string, count: number, size: number): JobResult {
  const data = pattern(size);
  mkdirSync(dir, { recursive: true });
  return timed(() => {
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `f${i}`), data);
    return { ops: count, bytes: count * size };
  });
}

// mkdir, rename and unlink rates, each over `count` operations in a fresh directory.
function meta(dir: string, count: number): JobResult {
  mkdirSync(dir, { recursive: true });
  const rate = (f: (i: number) => void): number => {
    const t0 = nowS();
    for (let i = 0; i < count; i++) f(i);
    return count / (nowS() - t0);
  };
  return timed(() => {
    const mkdirRate = rate((i) => mkdirSync(join(dir, `d${i}`)));
    for (let i = 0; i < count; i++) rmdirSync(join(dir, `d${i}`));
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `a${i}`), '');
    const renameRate = rate((i) => renameSync(join(dir, `a${i}`), join(dir, `b${i}`)));
    const unlinkRate = rate((i) => unlinkSync(join(dir, `b${i}`)));
    rmdirSync(dir);
    return { ops: 3 * count, bytes: 0, extra: { mkdirRate, renameRate, unlinkRate } };
  });
}

/**
 * dropCachedPages drops a file's pages from the page cache (posix_fadvise DONTNEED through GNU
 * dd), so the next read comes from the disk or the filesystem. Touches no other file's cache.
 */
export function dropCachedPages(file: string): void {
  spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

// Random aligned reads of a file this mount has read once already (a cached file). The page
// cache the warming pass filled is dropped before the timed reads, so they reach the
// filesystem (its own caches), not the kernel's. (Kernel readahead still applies, alike for
// every target.)
function randRead(file: string, count: number, block: number): JobResult {
  const buf = Buffer.allocUnsafe(1 << 20);
  const warm = openSync(file, 'r');
  const size = fstatSync(warm).size;
  for (let pos = 0; ;) {
    const n = readSync(warm, buf, 0, buf.length, pos);
    if (n === 0) break;
    pos += n;
  }
  closeSync(warm);
  // The kernel may keep those pages across opens (redisfs and its null do): drop them, so the
  // timed reads reach the filesystem.
  dropCachedPages(file);
  const blocks = Math.floor(size / block);
  let seed = 12345;
  const next = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % blocks; };
  const offsets = Array.from({ length: count }, () => next() * block);
  const fd = openSync(file, 'r');
  const r = timed(() => {
    let bytes = 0;
    for (const off of offsets) bytes += readSync(fd, buf, 0, block, off);
    return { ops: count, bytes };
  });
  closeSync(fd);
  return r;
}

// Runs `op` for `seconds`, looking at the clock every 16 ops (a cached stat takes ~1 µs).
function forSeconds(seconds: number, op: () => void): JobResult {
  return timed(() => {
    const end = nowS() + seconds;
    let ops = 0;
    do {
      for (let i = 0; i < 16; i++) op();
      ops += 16;
    } while (nowS() < end);
    return { ops, bytes: 0 };
  });
}

// open+read+close of one small file, again and again: each open reaches the FUSE daemon
// (OPEN, then READ, FLUSH, RELEASE), and without keep_cache the open drops the page cache,
// so the read reaches it too.
function openRead(file: string, seconds: number): JobResult {
  const buf = Buffer.allocUnsafe(4096);
  const expected = statSync(file).size;
  return forSeconds(seconds, () => {
    const fd = openSync(file, 'r');
    const n = readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    if (n !== expected) throw new Error(`read ${n} bytes of ${file}, expected ${expected}`);
  });
}

// stat of the same few unchanged files, round robin.
function statLoop(files: string[], seconds: number): JobResult {
  let i = 0;
  return forSeconds(seconds, () => {
    statSync(files[i]!);
    i = (i + 1) % files.length;
  });
}

// One writer on host A, one reader on host B: after each close() on A, B polls with
// open+read until it sees the new content. Latency is from close() returning to B seeing it.
function visibility(job: Extract<Job, { kind: 'visibility' }>): JobResult {
  mkdirSync(job.writeDir, { recursive: true });
  const latencies: number[] = [];
  let lost = 0;
  let rounds = 0;
  const name = (i: number): string => (job.mode === 'overwrite' ? 'target' : `new-${i}`);
  if (job.mode === 'overwrite') writeFileSync(join(job.writeDir, 'target'), 'round -00001');
  const buf = Buffer.alloc(64);
  const started = nowS();
  return timed(() => {
    for (let i = 0; i < job.rounds; i++) {
      if ((nowS() - started) * 1000 > job.budgetMs) break;
      const content = `round ${String(i).padStart(6, '0')}`; // same size every round
      const fd = openSync(join(job.writeDir, name(i)), 'w');
      writeSync(fd, content);
      closeSync(fd);
      const t0 = nowS();
      const path = join(job.readDir, name(i));
      let seen = false;
      while ((nowS() - t0) * 1000 < job.timeoutMs) {
        let got = '';
        try {
          const rfd = openSync(path, 'r');
          const n = readSync(rfd, buf, 0, buf.length, 0);
          closeSync(rfd);
          got = buf.toString('utf8', 0, n);
        } catch {
          // not there yet (new file)
        }
        if (got === content) { seen = true; break; }
        if (job.pollUs > 0) sleepSync(job.pollUs / 1000);
      }
      rounds++;
      if (seen) latencies.push((nowS() - t0) * 1000);
      else lost++;
    }
    if (job.mode === 'new') for (let i = 0; i < rounds; i++) unlinkSync(join(job.writeDir, name(i)));
    return { ops: rounds, bytes: 0, extra: { latencies, lost, rounds } };
  });
}
