// The invalidation message format, shared by the Lua scripts (which publish) and the VFS
// (which drops or replaces what it holds). A message is the writer's session id, then items,
// NUL-separated:
//   i<ino>            the inode's attributes or content changed (or it is gone)
//   e<parent>/<name>  the entry <name> in directory <parent> changed (created, removed, retargeted)
//   a<ino>,<packed>   the inode's attributes after the change, packed as attr-codec.ts reads
//                     them ('' when it is gone); sent after the items, one per inode named by
//                     an 'i' item. A reader that does not know 'a' only drops what 'i' names.
//   k<ino>            the change left the inode's content as it was (chmod, xattrs, link)
//   d<ino>,<length>,<bytes>  a small file's whole content after the change (lua/prelude.lua,
//                     push_content): binary, so these come last, in messages only, and are
//                     read by length. ('\0d' cannot occur earlier: no other item starts with d.)
import type { Attr, Ino } from '../core/types.js';
import { attrOrUndefined } from './attr-codec.js';

export type Invalidation =
  /**
   * attr: the inode's attributes after the change, when the message carried them; with attr
   * only, data: a small file's whole content after it, or sameContent: its content is unchanged.
   */
  | { kind: 'inode'; ino: Ino; attr?: Attr; data?: Buffer; sameContent?: true }
  | { kind: 'entry'; parent: Ino; name: string };

/**
 * parseItems reads a message's (or a script reply's) items, with the contents read from the
 * message's 'd' items; unknown and damaged items are skipped.
 */
export function parseItems(raw: readonly string[], contents?: ReadonlyMap<Ino, Buffer>): Invalidation[] {
  const pushed = new Map<Ino, Attr>();
  const same = new Set<Ino>();
  for (const item of raw) {
    if (item.charAt(0) === 'k') same.add(Number(item.slice(1)));
    if (item.charAt(0) !== 'a') continue;
    const comma = item.indexOf(',');
    const ino = Number(item.slice(1, comma));
    const attr = comma > 0 ? attrOrUndefined(ino, item.slice(comma + 1)) : undefined;
    if (attr) pushed.set(ino, attr);
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
      if (slash > 0) items.push({ kind: 'entry', parent: Number(item.slice(1, slash)), name: item.slice(slash + 1) });
    }
  }
  return items;
}

export interface InvalidationMessage {
  session: string;
  items: Invalidation[];
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
