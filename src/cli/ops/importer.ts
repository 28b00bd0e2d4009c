// `redisfs import`: loads a local tree straight into Redis through the store layer (no FUSE):
// one script per node creates it with its attributes, times and content (small files inline;
// larger ones as chunks uploaded first). Directories are walked one at a time while up to
// `concurrency` files load in parallel. Resumable: a name already there of the same type,
// size, mtime and mode is skipped; one that differs is replaced. Hard links are kept (one
// inode per source inode, further names linked to it). Directory times are set last, once
// their children no longer change them.
//
// The source is read with synchronous lstat/readFile for small files: this process serves no
// mount, and on a local tree the thread-pool round trips of the async calls cost more than
// the calls themselves (2.6k files/s async against 4.6-5.9k sync, 100k small files).
import { lstat, open, opendir, readlink } from 'node:fs/promises';
import { lstatSync, readFileSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { FsError } from '../../core/errors.js';
import { type FileType, type Ino, S_IFMT, typeFromMode, ROOT_INO } from '../../core/types.js';
import type { ChunkStore } from '../../store/chunk-store.js';
import type { MetaStore } from '../../store/meta-store.js';
import type { Progress } from './progress.js';

export interface ImportOptions {
  /** Files loading at once. @default 32 */
  concurrency: number;
  /** Where in the volume the tree goes (created if missing). @default '/' */
  to: string;
}

export interface ImportSummary {
  files: number;
  directories: number;
  symlinks: number;
  hardLinks: number;
  special: number;
  skipped: number;
  replaced: number;
  bytes: number;
  errors: Array<{ path: string; error: string }>;
  seconds: number;
}

interface ExistingEntry { ino: Ino; type: FileType }

export class Importer {
  readonly summary: ImportSummary = { files: 0, directories: 0, symlinks: 0, hardLinks: 0, special: 0, skipped: 0, replaced: 0, bytes: 0, errors: [], seconds: 0 };
  private readonly hardLinks = new Map<string, Promise<Ino | undefined>>();
  private readonly dirTimes: Array<{ ino: Ino; st: BigIntStats }> = [];
  private readonly running = new Set<Promise<void>>();
  private readonly zero: Buffer;

  constructor(
    private readonly meta: MetaStore,
    private readonly chunks: ChunkStore,
    private readonly opts: ImportOptions,
    private readonly progress: Progress,
  ) {
    this.zero = Buffer.alloc(meta.settings.chunkSize);
  }

  /** run imports the tree under src and returns the summary. */
  async run(src: string): Promise<ImportSummary> {
    const t0 = performance.now();
    const top = await lstat(src, { bigint: true });
    if (!top.isDirectory()) throw new Error(`${src} is not a directory`);
    const dest = await this.destination(this.opts.to);
    this.progress.phase('import', 0);
    const queue: Array<{ src: string; ino: Ino }> = [{ src, ino: dest }];
    this.dirTimes.push({ ino: dest, st: top });
    while (queue.length > 0) {
      const dir = queue.pop()!;
      await this.importDir(dir.src, dir.ino, queue).catch((err: unknown) => this.fail(dir.src, err));
    }
    await Promise.all(this.running);
    // Children are all in: now directory times and modes stick.
    for (const { ino, st } of this.dirTimes) {
      await this.meta.setAttr(ino, { mode: Number(st.mode), atimeNs: st.atimeNs, mtimeNs: st.mtimeNs })
        .catch((err: unknown) => this.fail(`<directory inode ${ino}>`, err));
    }
    this.progress.stop();
    this.summary.seconds = (performance.now() - t0) / 1000;
    return this.summary;
  }

  // Creates the --to directories that do not exist yet.
  private async destination(to: string): Promise<Ino> {
    let ino: Ino = ROOT_INO;
    for (const name of to.split('/').filter((p) => p.length > 0)) {
      const e = await this.meta.lookup(ino, name);
      if (e) {
        if (e.type !== 'd') throw new Error(`--to: ${name} exists in the volume and is not a directory`);
        ino = e.ino;
        continue;
      }
      const now = BigInt(Date.now()) * 1_000_000n;
      ino = (await this.meta.importNode({
        parent: ino, name, type: 'd', mode: 0o40755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, atimeNs: now, mtimeNs: now, size: 0,
      })).ino;
    }
    return ino;
  }

  private async existing(dir: Ino): Promise<Map<string, ExistingEntry>> {
    const out = new Map<string, ExistingEntry>();
    let cursor = '0';
    do {
      const page = await this.meta.readdirPage(dir, cursor);
      for (const e of page.entries) out.set(e.name, { ino: e.ino, type: e.type });
      cursor = page.cursor;
    } while (cursor !== '0');
    return out;
  }

  private async importDir(src: string, dirIno: Ino, queue: Array<{ src: string; ino: Ino }>): Promise<void> {
    const have = await this.existing(dirIno);
    for await (const d of await opendir(src, { bufferSize: 256 })) {
      const path = join(src, d.name);
      this.progress.grow(1);
      if (d.isDirectory()) {
        try {
          const st = await lstat(path, { bigint: true });
          const e = have.get(d.name);
          let ino: Ino;
          if (e?.type === 'd') {
            ino = e.ino;
          } else {
            if (e) await this.remove(dirIno, d.name);
            ino = (await this.meta.importNode(this.nodeOf(dirIno, d.name, 'd', st))).ino;
            this.summary.directories++;
          }
          this.dirTimes.push({ ino, st });
          queue.push({ src: path, ino });
        } catch (err) {
          this.fail(path, err);
        }
        this.progress.tick(1);
        continue;
      }
      // Bounded parallelism: wait for a slot before starting the next file.
      while (this.running.size >= this.opts.concurrency) await Promise.race(this.running);
      const task = this.importLeaf(path, dirIno, d.name, have.get(d.name))
        .catch((err: unknown) => this.fail(path, err))
        .finally(() => { this.running.delete(task); this.progress.tick(1); });
      this.running.add(task);
    }
  }

  private async importLeaf(path: string, parent: Ino, name: string, e: ExistingEntry | undefined): Promise<void> {
    const st = lstatSync(path, { bigint: true });
    const type = typeFromMode(Number(st.mode & BigInt(S_IFMT)));
    if (!type || type === 'd') return;
    const linkKey = type !== 'l' && st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
    if (linkKey) {
      const first = this.hardLinks.get(linkKey);
      if (first) {
        const ino = await first;
        if (ino === undefined) return;
        if (e?.ino === ino) { this.summary.skipped++; return; }
        if (e) await this.remove(parent, name);
        await this.meta.link(ino, parent, name);
        this.summary.hardLinks++;
        return;
      }
      let resolve!: (ino: Ino | undefined) => void;
      this.hardLinks.set(linkKey, new Promise((r) => { resolve = r; }));
      try {
        resolve(await this.importNode(path, parent, name, type, st, e));
      } catch (err) {
        resolve(undefined);
        throw err;
      }
      return;
    }
    await this.importNode(path, parent, name, type, st, e);
  }

  // Creates (or keeps, when identical) one non-directory node; returns its inode.
  private async importNode(path: string, parent: Ino, name: string, type: FileType, st: BigIntStats, e: ExistingEntry | undefined): Promise<Ino> {
    if (e) {
      const a = await this.meta.getAttr(e.ino);
      if (a && a.type === type && a.size === Number(st.size) && a.mtimeNs === st.mtimeNs && a.mode === Number(st.mode)
        && (type !== 'l' || (await this.meta.readlink(e.ino)) === (await readlink(path)))) {
        this.summary.skipped++;
        return e.ino;
      }
      await this.remove(parent, name);
      this.summary.replaced++;
    }
    const node = this.nodeOf(parent, name, type, st);
    if (type === 'l') {
      node.target = await readlink(path);
      node.size = Buffer.byteLength(node.target);
      this.summary.symlinks++;
      return (await this.meta.importNode(node)).ino;
    }
    if (type !== 'f') {
      node.rdev = Number(st.rdev);
      this.summary.special++;
      return (await this.meta.importNode(node)).ino;
    }
    const size = Number(st.size);
    if (size <= this.meta.settings.inlineMax) {
      node.inline = readFileSync(path);
      node.size = node.inline.length;
    } else {
      node.chunks = await this.uploadChunks(path, size);
      node.size = size;
    }
    try {
      const { ino } = await this.meta.importNode(node);
      this.summary.files++;
      this.summary.bytes += node.size;
      return ino;
    } catch (err) {
      if (node.chunks) await this.chunks.delete([...node.chunks.values()]).catch(() => undefined);
      throw err;
    }
  }

  // Reads a large file chunk by chunk and uploads each under a fresh id; all-zero chunks are
  // left out (holes), as a sparse file should be.
  private async uploadChunks(path: string, size: number): Promise<Map<number, string>> {
    const cs = this.meta.settings.chunkSize;
    const map = new Map<number, string>();
    const fh = await open(path, 'r');
    try {
      for (let idx = 0; idx * cs < size; idx++) {
        const len = Math.min(cs, size - idx * cs);
        const buf = Buffer.allocUnsafe(len);
        let got = 0;
        while (got < len) {
          const { bytesRead } = await fh.read(buf, got, len - got, idx * cs + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        const data = got < len ? buf.subarray(0, got) : buf;
        if (data.equals(this.zero.subarray(0, data.length))) continue;
        const id = this.chunks.newId();
        await this.chunks.put(id, data);
        map.set(idx, id);
      }
    } catch (err) {
      await this.chunks.delete([...map.values()]).catch(() => undefined);
      throw err;
    } finally {
      await fh.close();
    }
    return map;
  }

  private async remove(parent: Ino, name: string): Promise<void> {
    const e = await this.meta.lookup(parent, name);
    if (!e) return;
    await this.meta.removeEntry(parent, name, e.type === 'd');
  }

  private nodeOf(parent: Ino, name: string, type: FileType, st: BigIntStats): Parameters<MetaStore['importNode']>[0] {
    return {
      parent, name, type, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid),
      atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, size: 0,
    };
  }

  private fail(path: string, err: unknown): void {
    const msg = err instanceof FsError ? `${err.code}${err.message && err.message !== err.code ? `: ${err.message}` : ''}` : err instanceof Error ? err.message : String(err);
    this.summary.errors.push({ path, error: msg });
    if (this.summary.errors.length <= 20) process.stderr.write(`redisfs import: ${path}: ${msg}\n`);
  }
}
