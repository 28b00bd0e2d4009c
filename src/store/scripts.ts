// Loads the Lua scripts (each with the shared prelude) and exposes them as typed calls.
// ioredis's defineCommand runs EVALSHA first and falls back to EVAL on NOSCRIPT.
import { readFileSync } from 'node:fs';
import type { Redis, Cluster } from 'ioredis';

const LUA_DIR = new URL('./lua/', import.meta.url);
const SCRIPTS = [
  'initVolume', 'createNode', 'removeEntry', 'rename', 'link', 'setAttr', 'commit',
  'setXattr', 'removeXattr', 'purgeOrphan',
] as const;
export type ScriptName = (typeof SCRIPTS)[number];

export type ScriptArg = string | number | Buffer;
export type RunScript = (name: ScriptName, key: string, args: ScriptArg[]) => Promise<unknown>;

/** defineScripts registers every script on the client and returns a function that runs one. */
export function defineScripts(redis: Redis | Cluster): RunScript {
  const prelude = readFileSync(new URL('prelude.lua', LUA_DIR), 'utf8');
  for (const name of SCRIPTS) {
    const body = readFileSync(new URL(`${name}-1.lua`, LUA_DIR), 'utf8');
    redis.defineCommand(`rfs_${name}`, { numberOfKeys: 1, lua: `${prelude}\n${body}` });
  }
  return (name, key, args) => {
    const fn = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[`rfs_${name}`];
    if (!fn) throw new Error(`script ${name} not defined`);
    return fn.call(redis, key, ...args);
  };
}
