// The invalidation message format, shared by the Lua scripts (which publish) and the VFS
// (which drops what it holds). A message is the writer's session id, then items, NUL-separated:
//   i<ino>            the inode's attributes or content changed (or it is gone)
//   e<parent>/<name>  the entry <name> in directory <parent> changed (created, removed, retargeted)
import type { Ino } from '../core/types.js';

export type Invalidation =
  | { kind: 'inode'; ino: Ino }
  | { kind: 'entry'; parent: Ino; name: string };

export function parseItem(item: string): Invalidation | undefined {
  if (item.startsWith('i')) return { kind: 'inode', ino: Number(item.slice(1)) };
  if (item.startsWith('e')) {
    const slash = item.indexOf('/');
    if (slash < 0) return undefined;
    return { kind: 'entry', parent: Number(item.slice(1, slash)), name: item.slice(slash + 1) };
  }
  return undefined;
}

export interface InvalidationMessage {
  session: string;
  items: Invalidation[];
}

export function parseMessage(message: Buffer): InvalidationMessage {
  const parts = message.toString('utf8').split('\0');
  const session = parts.shift() ?? '';
  const items: Invalidation[] = [];
  for (const p of parts) {
    const item = parseItem(p);
    if (item) items.push(item);
  }
  return { session, items };
}
