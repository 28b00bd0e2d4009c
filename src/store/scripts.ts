// Loads the Lua scripts (each with the shared prelude) and exposes them as typed calls.
// ioredis's defineCommand runs EVALSHA first and falls back to EVAL on NOSCRIPT.
import { readFileSync } from 'node:fs';
import type { Redis, Cluster } from 'ioredis';

const LUA_DIR = new URL('./lua/', import.meta.url);
const SCRIPTS = [
  'initVolume', 'createNode', 'removeEntry', 'rename', 'link', 'setAttr', 'commit',
  'setXattr', 'removeXattr', 'purgeOrphan', 'loadFile', 'loadFiles', 'loadAttrs', 'listPage', 'lookupName',
  'heartbeat', 'reapMount', 'importNode', 'dropEntry', 'setNlink', 'dropChunkRefs', 'attachLost',
] as const;
export type ScriptName = (typeof SCRIPTS)[number];

export type ScriptArg = string | number | Buffer;
export type RunScript = (name: ScriptName, key: string, args: ScriptArg[], binary?: boolean) => Promise<unknown>;

/** defineScripts registers every script on the client and returns a function that runs one. */
export function defineScripts(redis: Redis | Cluster): RunScript {
  const prelude = readFileSync(new URL('prelude.lua', LUA_DIR), 'utf8');
  for (const name of SCRIPTS) {
    const body = readFileSync(new URL(`${name}-1.lua`, LUA_DIR), 'utf8');
    // A shebang line (Redis 7 script flags, e.g. no-writes) must stay the script's first line.
    const shebang = body.startsWith('#!') ? body.slice(0, body.indexOf('\n') + 1) : '';
    redis.defineCommand(`rfs_${name}`, { numberOfKeys: 1, lua: `${shebang}${prelude}\n${body.slice(shebang.length)}` });
  }
  return (name, key, args, binary = false) => {
    // ioredis adds a …Buffer variant of each command that returns replies as Buffers.
    const fn = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[`rfs_${name}${binary ? 'Buffer' : ''}`];
    if (!fn) throw new Error(`script ${name} not defined`);
    return fn.call(redis, key, ...args);
  };
}
