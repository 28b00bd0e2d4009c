// The invalidation message format, shared by the Lua scripts (which publish) and the VFS
// (which drops or replaces what it holds). A message is the writer's session id, then items,
// NUL-separated:
//   i<ino>            the inode's attributes or content changed (or it is gone)
//   e<parent>/<name>  the entry <name> in directory <parent> changed (created, removed, retargeted)
//   a<ino>,<packed>   the inode's attributes after the change, packed as attr-codec.ts reads
//                     them ('' when it is gone); sent after the items, one per inode named by
//                     an 'i' item. A reader that does not know 'a' only drops what 'i' names.
import type { Attr, Ino } from '../core/types.js';
import { attrOrUndefined } from './attr-codec.js';

export type Invalidation =
  /** attr: the inode's attributes after the change, when the message carried them. */
  | { kind: 'inode'; ino: Ino; attr?: Attr }
  | { kind: 'entry'; parent: Ino; name: string };

/** parseItems reads a message's (or a script reply's) items; unknown and damaged ones are skipped. */
export function parseItems(raw: readonly string[]): Invalidation[] {
  const pushed = new Map<Ino, Attr>();
  for (const item of raw) {
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
      items.push(attr ? { kind: 'inode', ino, attr } : { kind: 'inode', ino });
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
  const parts = message.toString('utf8').split('\0');
  const session = parts.shift() ?? '';
  return { session, items: parseItems(parts) };
}
