// The invalidation message format, shared by the Lua scripts (which publish) and the VFS
// (which drops or replaces what it holds). A message is the writer's session id, then items,
// NUL-separated:
//   i<ino>            the inode's attributes or content changed (or it is gone)
//   e<parent>/<name>  the entry <name> in directory <parent> changed (created, removed, retargeted)
//   a<ino>,<packed>   the inode's attributes after the change, packed as codec.ts reads
//                     them ('' when it is gone); sent after the items, one per inode named by
//                     an 'i' item.
//   k<ino>            the change left the inode's content as it was (chmod, xattrs, link)
//   n<value>,<parent>/<name>  what the entry of an 'e' item holds after the change: an entry
//                     value (codec.ts) or '' (no such name now). With the directory's 'a'
//                     item, whose version orders it against what a mount read of the names.
//   d<ino>,<length>,<bytes>  a small file's whole content after the change (lua/prelude.lua,
//                     push_content): binary, so these come last, in messages only, and are
//                     read by length. ('\0d' cannot occur earlier: no other item starts with d.)
// The 'a' items also carry a new inode's attributes (for the entry that names it). A reader
// that does not know 'a', 'k', 'n' or 'd' items only drops what 'i' and 'e' items name.
import type { Attr, FileType, Ino } from '../core/types.js';
import { attrOrUndefined, parseEntryValue } from './codec.js';

/** What a changed name holds after the change, as of its directory's version then. */
export interface EntryNow {
  /** null: no such name now. */
  entry: { ino: Ino; type: FileType } | null;
  dirVersion: number;
  /** The attributes of the inode it names, when they came along. */
  attr?: Attr;
}

export type Invalidation =
  /**
   * attr: the inode's attributes after the change, when the message carried them; with attr
   * only, data: a small file's whole content after it, or sameContent: its content is unchanged.
   */
  | { kind: 'inode'; ino: Ino; attr?: Attr; data?: Buffer; sameContent?: true }
  /** now: what the name holds after the change, when the message said. */
  | { kind: 'entry'; parent: Ino; name: string; now?: EntryNow };

/**
 * parseItems reads a message's (or a script reply's) items, with the contents read from the
 * message's 'd' items; unknown and damaged items are skipped.
 */
export function parseItems(raw: readonly string[], contents?: ReadonlyMap<Ino, Buffer>): Invalidation[] {
  const pushed = new Map<Ino, Attr>();
  const same = new Set<Ino>();
  const values = new Map<string, string>();
  for (const item of raw) {
    const kind = item.charAt(0);
    const comma = item.indexOf(',');
    if (kind === 'k') same.add(Number(item.slice(1)));
    else if (kind === 'n' && comma > 0) values.set(item.slice(comma + 1), item.slice(1, comma));
    else if (kind === 'a' && comma > 0) {
      const ino = Number(item.slice(1, comma));
      const attr = attrOrUndefined(ino, item.slice(comma + 1));
      if (attr) pushed.set(ino, attr);
    }
  }
  const items: Invalidation[] = [];
  for (const item of raw) {
    const kind = item.charAt(0);
    if (kind === 'i') {
      const ino = Number(item.slice(1));
      const attr = pushed.get(ino);
      const data = attr ? contents?.get(ino) : undefined;
      if (!attr) items.push({ kind: 'inode', ino });
      else if (data) items.push({ kind: 'inode', ino, attr, data });
      else items.push(same.has(ino) ? { kind: 'inode', ino, attr, sameContent: true } : { kind: 'inode', ino, attr });
    } else if (kind === 'e') {
      const slash = item.indexOf('/');
      if (slash < 0) continue;
      const parent = Number(item.slice(1, slash));
      const name = item.slice(slash + 1);
      const now = entryNow(values.get(item.slice(1)), pushed.get(parent), pushed);
      items.push(now ? { kind: 'entry', parent, name, now } : { kind: 'entry', parent, name });
    }
  }
  return items;
}

// What an 'n' item says, given its directory's pushed attributes; undefined when either is
// missing or damaged (the item then only drops).
function entryNow(value: string | undefined, dir: Attr | undefined, pushed: ReadonlyMap<Ino, Attr>): EntryNow | undefined {
  if (value === undefined || !dir) return undefined;
  if (value === '') return { entry: null, dirVersion: dir.version };
  try {
    const entry = parseEntryValue(value);
    const attr = pushed.get(entry.ino);
    return attr ? { entry, dirVersion: dir.version, attr } : { entry, dirVersion: dir.version };
  } catch {
    return undefined;
  }
}

export interface InvalidationMessage {
  session: string;
  items: Invalidation[];
}

/** isFrom tells whether a message was published by the given session, without parsing it. */
export function isFrom(message: Buffer, session: string): boolean {
  return message.length > session.length && message[session.length] === 0 && message.toString('latin1', 0, session.length) === session;
}

export function parseMessage(message: Buffer): InvalidationMessage {
  const end = message.indexOf('\0d');
  const parts = message.toString('utf8', 0, end < 0 ? message.length : end).split('\0');
  const session = parts.shift() ?? '';
  return { session, items: parseItems(parts, end < 0 ? undefined : parseContents(message, end + 1)) };
}

// The 'd' items from `pos` on, by inode; stops at the first damaged one (its inode's item then
// only drops the content). Copied: a slice would keep the reader's whole buffer alive.
function parseContents(message: Buffer, pos: number): Map<Ino, Buffer> {
  const byIno = new Map<Ino, Buffer>();
  while (pos < message.length && message[pos] === 0x64 /* d */) {
    const c1 = message.indexOf(',', pos);
    const c2 = c1 < 0 ? -1 : message.indexOf(',', c1 + 1);
    if (c2 < 0) break;
    const ino = Number(message.toString('latin1', pos + 1, c1));
    const len = Number(message.toString('latin1', c1 + 1, c2));
    if (!Number.isSafeInteger(len) || len < 0 || c2 + 1 + len > message.length) break;
    byIno.set(ino, Buffer.from(message.subarray(c2 + 1, c2 + 1 + len)));
    pos = c2 + 2 + len; // past the bytes and the NUL after them
  }
  return byIno;
}
