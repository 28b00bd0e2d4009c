// fsck of a volume, in pages (SCAN/HSCAN COUNT 1000) so memory stays bounded (a few bytes per
// inode number, plus a path per hard-linked or damaged file):
// 1. inodes: SCAN every inode hash; record each file's link count; check each file's content
//    (chunk-map indices within the size, every referenced chunk present, inline data no
//    longer than the size); check the attributes packed for listings (lua/prelude.lua) where
//    a listing would trust them: they must be the inode's fields;
// 2. tree: walk from the root with HSCAN: every entry must name an existing inode of the
//    entry's type; count names per inode; a directory's nlink is 2 + its subdirectories;
// 3. every inode must be reached by the walk, or be an open-unlinked file (an orphan) held
//    by a live mount; every file's nlink must equal the names found.
// On a volume in use, anything changed after fsck started (ctime, or an inode number handed
// out since) is left alone, and each repair is one script that re-checks what fsck saw.
import type { MetaStore } from '../../store/meta-store.js';
import { ATTR_FIELDS } from '../../store/codec.js';
import { listMounts } from '../../store/mounts.js';
import { nowNs } from '../../core/types.js';
import type { RedisConn } from '../volume-target.js';
import { eachKey, scanKeys } from '../../store/key-scan.js';
import type { Progress } from './progress.js';
import { BitSet, ByteCounts } from './bitset.js';

export type ProblemKind =
  | 'dangling-entry' | 'wrong-type' | 'wrong-nlink' | 'wrong-dir-nlink' | 'unreachable' | 'dead-orphan'
  | 'missing-chunk' | 'chunk-past-size' | 'inline-too-long' | 'corrupt-inode' | 'stale-listing-copy';

export interface Problem {
  kind: ProblemKind;
  /** Path of the entry or file, or `<inode N>` when no name reaches it. */
  path: string;
  ino: number;
  detail: string;
  repaired?: string;
}

export interface FsckReport {
  inodes: number;
  directories: number;
  entries: number;
  chunksChecked: number;
  problems: Problem[];
  repaired: number;
}

const PAGE = 1000;
const ROOT = 1;

interface FileContentIssue { kind: ProblemKind; detail: string; refs?: Array<[number, string]> }

export async function runFsck(redis: RedisConn, meta: MetaStore, repair: boolean, progress: Progress): Promise<FsckReport> {
  const k = meta.keys;
  const startNs = nowNs();
  const maxIno = Number((await redis.hget(k.ctr, 'ino')) ?? 0);
  const inodeCount = Number((await redis.hget(k.ctr, 'inodes')) ?? 0);
  const cs = meta.settings.chunkSize;
  const report: FsckReport = { inodes: 0, directories: 0, entries: 0, chunksChecked: 0, problems: [], repaired: 0 };

  const isFile = new BitSet();
  const isDir = new BitSet();
  const nlinks = new ByteCounts();
  const names = new ByteCounts();
  const reached = new BitSet();
  const content = new Map<number, FileContentIssue[]>();
  const pathOf = new Map<number, string>();
  reached.add(ROOT);

  // 1. inodes
  progress.phase('inodes', inodeCount);
  for await (const keys of scanKeys(redis, k.inodePattern, PAGE, { sameSlotAs: k.vol })) {
    const inos = keys.map((key) => k.inoOf(key)).filter((i) => Number.isSafeInteger(i) && i > 0 && i <= maxIno);
    if (inos.length === 0) continue;
    const p = redis.pipeline();
    for (const ino of inos) p.hmget(k.inode(ino), ...ATTR_FIELDS, 'pa', 'pt').hgetall(k.chunkMap(ino)).strlen(k.inline(ino));
    const res = (await p.exec()) ?? [];
    const chunkChecks: Array<{ ino: number; idx: number; id: string }> = [];
    inos.forEach((ino, i) => {
      const f = res[3 * i]![1] as Array<string | null>;
      const field = (name: (typeof ATTR_FIELDS)[number]): string | null | undefined => f[ATTR_FIELDS.indexOf(name)];
      const [t, n, s, ct] = [field('t'), field('n'), field('s'), field('ct')];
      const [pa, pt] = f.slice(ATTR_FIELDS.length);
      const map = res[3 * i + 1]![1] as Record<string, string>;
      const inlineLen = Number(res[3 * i + 2]![1]);
      if (t === null || t === undefined) return; // deleted since the SCAN
      report.inodes++;
      if (BigInt(ct ?? '0') >= startNs) return; // changed since fsck started
      // The copy is trusted while pt ends with ct: a field changed without ct (a hand edit)
      // would be listed wrong.
      if (pa && pt && ct && pt.endsWith(`,${ct}`) && `${pa},${pt}` !== f.slice(0, ATTR_FIELDS.length).map((x) => x ?? '').join(',')) {
        addIssue(content, ino, { kind: 'stale-listing-copy', detail: 'the attributes packed for listings differ from its fields' });
      }
      if (t === 'd') {
        isDir.add(ino);
        return;
      }
      isFile.add(ino); // any linkable node: file, symlink, fifo, socket, device
      nlinks.set(ino, Number(n));
      if (t !== 'f') return;
      const size = Number(s);
      if (!Number.isFinite(size) || !Number.isFinite(Number(n))) {
        addIssue(content, ino, { kind: 'corrupt-inode', detail: `unparsable size '${s}' or nlink '${n}'` });
        return;
      }
      const last = Math.ceil(size / cs) - 1;
      const past: Array<[number, string]> = [];
      for (const [idx, id] of Object.entries(map)) {
        if (Number(idx) > last) past.push([Number(idx), id]);
        else chunkChecks.push({ ino, idx: Number(idx), id });
      }
      if (past.length > 0) addIssue(content, ino, { kind: 'chunk-past-size', detail: `${past.length} chunk(s) past the size ${size}`, refs: past });
      if (inlineLen > size) addIssue(content, ino, { kind: 'inline-too-long', detail: `inline data of ${inlineLen} bytes, size ${size}` });
    });
    if (chunkChecks.length > 0) {
      const ex = await eachKey(redis, 'exists', chunkChecks.map((c) => k.chunk(c.id)));
      report.chunksChecked += chunkChecks.length;
      const missing = new Map<number, Array<[number, string]>>();
      chunkChecks.forEach((c, i) => {
        if (ex[i] !== 0) return;
        let l = missing.get(c.ino);
        if (!l) missing.set(c.ino, (l = []));
        l.push([c.idx, c.id]);
      });
      for (const [ino, refs] of missing) {
        addIssue(content, ino, { kind: 'missing-chunk', detail: `missing chunk(s) ${refs.map(([i, id]) => `#${i} (${id})`).join(', ')}`, refs });
      }
    }
    progress.tick(inos.length);
  }

  // 2. tree walk, depth first; a stack of directories still to list.
  progress.phase('tree', report.inodes);
  const stack: Array<{ ino: number; path: string }> = [{ ino: ROOT, path: '/' }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    report.directories++;
    let subdirs = 0;
    let dcur = '0';
    do {
      const [next, flat] = await redis.hscan(k.entries(dir.ino), dcur, 'COUNT', PAGE);
      dcur = next;
      const ents: Array<{ name: string; value: string; t: string; ino: number }> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const value = flat[i + 1]!;
        ents.push({ name: flat[i]!, value, t: value.charAt(0), ino: Number(value.slice(1)) });
      }
      const p = redis.pipeline();
      for (const e of ents) p.hget(k.inode(e.ino), 't');
      const res = (await p.exec()) ?? [];
      for (let i = 0; i < ents.length; i++) {
        const e = ents[i]!;
        const t = res[i]![1] as string | null;
        const path = dir.path === '/' ? `/${e.name}` : `${dir.path}/${e.name}`;
        report.entries++;
        if (e.t === 'd') subdirs++;
        if (t === null || t === undefined) {
          const prob: Problem = { kind: 'dangling-entry', path, ino: e.ino, detail: `entry '${e.value}' names no inode` };
          if (repair) {
            const changed = await meta.dropEntry(dir.ino, e.name, e.value);
            if (changed.length > 0) prob.repaired = 'entry removed';
          }
          // A rename or unlink may have raced us; only what is still dangling counts.
          if (prob.repaired || (await redis.hget(k.entries(dir.ino), e.name)) === e.value) report.problems.push(prob);
          continue;
        }
        if (t !== e.t) report.problems.push({ kind: 'wrong-type', path, ino: e.ino, detail: `entry says '${e.t}', inode is '${t}'` });
        reached.add(e.ino);
        if (t === 'd') {
          stack.push({ ino: e.ino, path });
          continue;
        }
        const count = names.inc(e.ino);
        if (content.has(e.ino) || nlinks.get(e.ino) !== 1 || count > 1) if (!pathOf.has(e.ino)) pathOf.set(e.ino, path);
      }
      progress.tick(ents.length);
    } while (dcur !== '0');
    // a directory's link count: its entry in the parent, its '.', and each subdirectory's '..'
    const [n, ct] = await redis.hmget(k.inode(dir.ino), 'n', 'ct');
    if (n !== null && BigInt(ct ?? '0') < startNs && Number(n) !== 2 + subdirs) {
      const prob: Problem = { kind: 'wrong-dir-nlink', path: dir.path, ino: dir.ino, detail: `nlink ${n}, expected ${2 + subdirs}` };
      if (repair && (await meta.setNlink(dir.ino, Number(n), 2 + subdirs)).length > 0) prob.repaired = `nlink set to ${2 + subdirs}`;
      report.problems.push(prob);
    }
  }

  // 3. reachability and file link counts, then the content problems found in step 1.
  const orphans = await redis.hgetall(k.orphans);
  const live = new Set((await listMounts(redis, k)).filter((m) => !m.stale).map((m) => m.session));
  progress.phase('links', maxIno);
  for (let ino = 2; ino <= maxIno; ino++) {
    if (ino % 65536 === 0) progress.tick(65536);
    if (!isFile.has(ino) && !(isDir.has(ino) && !reached.has(ino))) continue;
    const want = names.get(ino);
    const have = nlinks.get(ino);
    const where = pathOf.get(ino) ?? `<inode ${ino}>`;
    if (!reached.has(ino)) {
      const holder = orphans[String(ino)];
      if (holder !== undefined && live.has(holder)) continue; // open-unlinked on a live mount
      // Confirm against the inode as it is now: it may have been unlinked or moved meanwhile.
      const [t, ct] = await redis.hmget(k.inode(ino), 't', 'ct');
      if (t === null || BigInt(ct ?? '0') >= startNs) continue;
      if (holder !== undefined) {
        const prob: Problem = { kind: 'dead-orphan', path: where, ino, detail: `open-unlinked file held by session ${holder}, which is gone` };
        if (repair) { await meta.purgeOrphan(ino); prob.repaired = 'deleted'; }
        report.problems.push(prob);
      } else if (have === 0) {
        const prob: Problem = { kind: 'unreachable', path: where, ino, detail: 'no name and no link count: leaked' };
        if (repair) { await meta.purgeOrphan(ino); prob.repaired = 'deleted'; }
        report.problems.push(prob);
      } else {
        const prob: Problem = { kind: 'unreachable', path: where, ino, detail: `nlink ${have} but no entry names it` };
        if (repair && (await meta.attachLost(ino)).length > 0) prob.repaired = `moved to /lost+found/#${ino}`;
        report.problems.push(prob);
      }
      continue;
    }
    if (want !== have && want < 255) {
      const [n, ct] = await redis.hmget(k.inode(ino), 'n', 'ct');
      if (n === null || Number(n) !== have || BigInt(ct ?? '0') >= startNs) continue;
      const prob: Problem = { kind: 'wrong-nlink', path: where, ino, detail: `nlink ${have}, but ${want} name(s)` };
      if (repair && (await meta.setNlink(ino, have, want)).length > 0) prob.repaired = `nlink set to ${want}`;
      report.problems.push(prob);
    }
  }
  progress.tick(maxIno % 65536);
  for (const [ino, issues] of content) {
    for (const issue of issues) {
      const prob: Problem = { kind: issue.kind, path: pathOf.get(ino) ?? `<inode ${ino}>`, ino, detail: issue.detail };
      if (repair && issue.kind === 'stale-listing-copy') {
        await meta.dropListingCopy(ino);
        prob.repaired = 'copy dropped: listings read its fields';
      } else if (repair && issue.refs && (await meta.dropChunkRefs(ino, issue.refs)).length > 0) {
        prob.repaired = issue.kind === 'missing-chunk' ? 'map entries removed: those ranges now read as zeros' : 'chunks past the size dropped';
      }
      report.problems.push(prob);
    }
  }
  progress.stop();
  report.repaired = report.problems.filter((p) => p.repaired).length;
  return report;
}

function addIssue(m: Map<number, FileContentIssue[]>, ino: number, issue: FileContentIssue): void {
  let l = m.get(ino);
  if (!l) m.set(ino, (l = []));
  l.push(issue);
}
