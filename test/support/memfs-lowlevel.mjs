// A tiny in-memory filesystem served straight by the lowlevel addon (no VFS, no Redis), for
// test/addon-leaks.fuse.test.ts: it drives every reply, notify and interrupt path of
// native/redisfs_fuse.c in a process that may run under AddressSanitizer. Plain JavaScript:
// the node that runs it has LD_PRELOAD set and no TypeScript loader.
//
//   node memfs-lowlevel.mjs ADDON.node MOUNTPOINT [MOUNTPOINT2]
//
// Both mountpoints show the same tree, one session each. Prints `ready` once the kernel's INIT
// arrived for each, `exited` when a session was unmounted from outside (it is then closed). Lookups of names that start with `slow-` are
// answered after 300 ms, unless the kernel interrupts them first (then EINTR, and the late
// answer must be refused); `hang-` names are never answered (the unmount must answer them), and
// a notification for their directory is queued, which the kernel holds until they are.
// SIGTERM unmounts; then the loop runs dry and node ends by itself, tearing its environment
// down (finalizers, cleanup hooks) as a daemon does. Its last stdout line is a JSON of counts.
import { createRequire } from 'node:module';

const [addonPath, ...mountpoints] = process.argv.slice(2);
const ll = createRequire(import.meta.url)(addonPath);

// Mirrors of the enums in native/redisfs_fuse.c (see src/fuse/lowlevel/addon.ts).
const Op = {
  LOOKUP: 1, GETATTR: 2, SETATTR: 3, READLINK: 4, MKNOD: 5, MKDIR: 6, UNLINK: 7, RMDIR: 8, SYMLINK: 9, RENAME: 10,
  LINK: 11, OPEN: 12, READ: 13, WRITE: 14, FLUSH: 15, RELEASE: 16, FSYNC: 17, OPENDIR: 18, READDIR: 19,
  RELEASEDIR: 20, STATFS: 21, SETXATTR: 22, GETXATTR: 23, LISTXATTR: 24, REMOVEXATTR: 25, ACCESS: 26, CREATE: 27,
  FORGET: 28, EV_INIT: 100, EV_DESTROY: 101, EV_EXITED: 102, EV_INTERRUPT: 103,
};
const E = { ENOENT: 2, EINTR: 4, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ERANGE: 34, ENOTEMPTY: 39, ENODATA: 61 };
const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000;
const ATTR = 16;

/** @type {Map<number, {ino:number, mode:number, nlink:number, uid:number, gid:number, data:Buffer, kids?:Map<string,number>, target?:string, xattrs:Map<string,Buffer>}>} */
const inodes = new Map();
let nextIno = 2;
let nextFh = 1;
function node(mode, uid, gid) {
  const n = { ino: nextIno++, mode, nlink: 1, uid, gid, data: Buffer.alloc(0), xattrs: new Map() };
  if ((mode & S_IFMT) === S_IFDIR) n.kids = new Map();
  inodes.set(n.ino, n);
  return n;
}
inodes.set(1, { ino: 1, mode: S_IFDIR | 0o777, nlink: 2, uid: 0, gid: 0, data: Buffer.alloc(0), kids: new Map(), xattrs: new Map() });

const counts = { requests: 0, notices: 0, interrupted: 0, refusedLate: 0, hung: 0, exitedOutside: 0 };
const held = new Map(); // id → node of a slow- lookup not answered yet

function attr(n, f = new Float64Array(ATTR), i = 0) {
  const o = i * ATTR;
  f.fill(0, o, o + ATTR);
  f[o] = n.ino; f[o + 1] = n.mode; f[o + 2] = n.nlink; f[o + 3] = n.uid; f[o + 4] = n.gid;
  f[o + 6] = n.kids ? 4096 : n.target ? n.target.length : n.data.length;
  f[o + 7] = Math.ceil(f[o + 6] / 512);
  f[o + 14] = 4096;
  return f;
}
const entry = (id, n) => ll.replyEntry(id, attr(n), 1, 1);
const dir = (ino) => inodes.get(ino)?.kids;

function add(id, parent, name, n, create) {
  const kids = dir(parent);
  if (!kids) return ll.replyErr(id, E.ENOTDIR);
  if (kids.has(name)) return ll.replyErr(id, E.EEXIST);
  kids.set(name, n.ino);
  if (create) ll.replyCreate(id, attr(n), 1, 1, nextFh++, 0);
  else entry(id, n);
}

function unlinkName(kids, name) {
  const n = inodes.get(kids.get(name));
  kids.delete(name);
  if (n && --n.nlink <= 0 && !n.kids) inodes.delete(n.ino);
}

/** Queues kernel cache notifications the way redisfs does when another host changed something. */
function notify(session, parent, name, ino) {
  counts.notices += 3;
  ll.notifyInvalEntry(session, parent, name);
  ll.notifyInvalInode(session, ino, 0, 0);
  ll.notifyDelete(session, parent, ino, name); // ENOENT from the kernel mostly: fine
}

function dispatch(session, op, id, ...a) {
  if (id >= 0) counts.requests++;
  switch (op) {
    case Op.LOOKUP: {
      const [parent, name] = a;
      const ino = dir(parent)?.get(name);
      if (name.startsWith('hang-')) {
        // Never answered; and the notification queued behind it waits for the directory lock
        // this lookup holds, so the unmount finds the helper thread blocked in the kernel.
        counts.hung++;
        ll.notifyInvalEntry(session, parent, 'blocked-behind-hang');
        return;
      }
      if (name.startsWith('slow-')) {
        held.set(id, ino);
        setTimeout(() => { if (held.delete(id)) ll.replyErr(id, E.ENOENT); }, 300);
        return;
      }
      return ino ? entry(id, inodes.get(ino)) : ll.replyErr(id, E.ENOENT);
    }
    case Op.GETATTR: {
      const n = inodes.get(a[0]);
      return n ? ll.replyAttr(id, attr(n), 1) : ll.replyErr(id, E.ENOENT);
    }
    case Op.SETATTR: {
      const [ino, valid, mode, uid, gid, size] = a;
      const n = inodes.get(ino);
      if (!n) return ll.replyErr(id, E.ENOENT);
      if (valid & 1) n.mode = (n.mode & S_IFMT) | (mode & 0o7777);
      if (valid & 2) n.uid = uid;
      if (valid & 4) n.gid = gid;
      if (valid & 8) n.data = Buffer.concat([n.data.subarray(0, size), Buffer.alloc(Math.max(0, size - n.data.length))]);
      return ll.replyAttr(id, attr(n), 1);
    }
    case Op.READLINK:
      return ll.replyReadlink(id, inodes.get(a[0])?.target ?? '');
    case Op.MKNOD:
      return add(id, a[0], a[1], node(a[2], a[4], a[5]), false);
    case Op.MKDIR:
      return add(id, a[0], a[1], node(S_IFDIR | a[2], a[3], a[4]), false);
    case Op.SYMLINK: {
      const n = node(S_IFLNK | 0o777, a[3], a[4]);
      n.target = a[2];
      return add(id, a[0], a[1], n, false);
    }
    case Op.UNLINK:
    case Op.RMDIR: {
      const [parent, name] = a;
      const kids = dir(parent);
      const n = inodes.get(kids?.get(name));
      if (!kids || !n) return ll.replyErr(id, E.ENOENT);
      if (op === Op.RMDIR && n.kids?.size) return ll.replyErr(id, E.ENOTEMPTY);
      unlinkName(kids, name);
      ll.replyErr(id, 0);
      return notify(session, parent, name, n.ino);
    }
    case Op.RENAME: {
      const [parent, name, newParent, newName, flags] = a;
      const from = dir(parent), to = dir(newParent);
      if (!from || !to || !from.has(name)) return ll.replyErr(id, E.ENOENT);
      if (flags !== 0) return ll.replyErr(id, E.EINVAL);
      if (to.has(newName)) unlinkName(to, newName);
      to.set(newName, from.get(name));
      from.delete(name);
      ll.replyErr(id, 0);
      return notify(session, parent, name, to.get(newName));
    }
    case Op.LINK: {
      const n = inodes.get(a[0]);
      if (!n) return ll.replyErr(id, E.ENOENT);
      n.nlink++;
      return add(id, a[1], a[2], n, false);
    }
    case Op.OPEN:
    case Op.OPENDIR:
      return ll.replyOpen(id, nextFh++, 0);
    case Op.READ: {
      const [ino, , size, off] = a;
      const n = inodes.get(ino);
      return n ? ll.replyBuf(id, n.data.subarray(off, off + size)) : ll.replyErr(id, E.ENOENT);
    }
    case Op.WRITE: {
      const [ino, , data, off] = a;
      const n = inodes.get(ino);
      if (!n) return ll.replyErr(id, E.ENOENT);
      if (n.data.length < off + data.length) n.data = Buffer.concat([n.data, Buffer.alloc(off + data.length - n.data.length)]);
      data.copy(n.data, off);
      return ll.replyWrite(id, data.length);
    }
    case Op.FLUSH:
    case Op.RELEASE:
    case Op.FSYNC:
    case Op.RELEASEDIR:
    case Op.ACCESS:
      return ll.replyErr(id, 0);
    case Op.READDIR: {
      const [ino, , size, off, plus] = a;
      const kids = dir(ino);
      if (!kids) return ll.replyErr(id, E.ENOTDIR);
      const all = [['.', ino], ['..', ino], ...kids].slice(off, off + 200);
      const attrs = new Float64Array(all.length * ATTR);
      all.forEach(([name, k], i) => {
        attr(inodes.get(k), attrs, i);
        if (name === '.' || name === '..') attrs[i * ATTR + 15] = -1; // name only, as the adapter does
      });
      ll.replyDir(id, size, plus, off, all.map(([name]) => name), attrs, 1, 1);
      return;
    }
    case Op.STATFS:
      return ll.replyStatfs(id, Float64Array.of(4096, 4096, 1e6, 5e5, 5e5, 1e6, 5e5, 5e5, 255));
    case Op.SETXATTR: {
      const [ino, name, value, flags] = a;
      const n = inodes.get(ino);
      if (!n) return ll.replyErr(id, E.ENOENT);
      if ((flags & 1) && n.xattrs.has(name)) return ll.replyErr(id, E.EEXIST);
      if ((flags & 2) && !n.xattrs.has(name)) return ll.replyErr(id, E.ENODATA);
      n.xattrs.set(name, Buffer.from(value));
      return ll.replyErr(id, 0);
    }
    case Op.GETXATTR:
    case Op.LISTXATTR: {
      const n = inodes.get(a[0]);
      if (!n) return ll.replyErr(id, E.ENOENT);
      const v = op === Op.GETXATTR ? n.xattrs.get(a[1]) : Buffer.from([...n.xattrs.keys()].map((k) => `${k}\0`).join(''));
      const size = op === Op.GETXATTR ? a[2] : a[1];
      if (!v) return ll.replyErr(id, E.ENODATA);
      if (size === 0) return ll.replyXattr(id, v.length);
      return v.length > size ? ll.replyErr(id, E.ERANGE) : ll.replyBuf(id, v);
    }
    case Op.REMOVEXATTR: {
      const n = inodes.get(a[0]);
      if (!n?.xattrs.delete(a[1])) return ll.replyErr(id, E.ENODATA);
      return ll.replyErr(id, 0);
    }
    case Op.CREATE:
      return add(id, a[0], a[1], node(S_IFREG | (a[2] & 0o7777), a[4], a[5]), true);
    case Op.FORGET:
      return;
    case Op.EV_INIT:
      console.log('ready');
      return;
    case Op.EV_INTERRUPT: {
      if (!held.has(id)) return;
      const ino = held.get(id);
      held.delete(id);
      counts.interrupted++;
      ll.replyErr(id, E.EINTR);
      // The work finishing later: its answer must be refused, not sent for a freed request.
      setTimeout(() => { if (!(ino ? entry(id, inodes.get(ino)) : ll.replyErr(id, E.ENOENT))) counts.refusedLate++; }, 20);
      return;
    }
    case Op.EV_EXITED:
      counts.exitedOutside++;
      ll.unmount(session);
      sessions.delete(session);
      console.log('exited');
      return;
    case Op.EV_DESTROY:
      return;
    default:
      if (id >= 0) ll.replyErr(id, 38); // ENOSYS
  }
}

const sessions = new Set();
for (const mp of mountpoints) {
  let session;
  session = ll.mount(mp, 'fsname=memfs,subtype=memfs,default_permissions', (op, id, ...a) => dispatch(session, op, id, ...a),
    1 << 20, false, false);
  sessions.add(session);
}
process.on('SIGTERM', () => {
  process.removeAllListeners('SIGTERM');
  counts.pendingAtUnmount = ll.pendingRequests();
  for (const s of sessions) ll.unmount(s);
  sessions.clear();
  counts.pendingAfterUnmount = ll.pendingRequests();
  process.on('exit', () => console.log(JSON.stringify(counts)));
});
