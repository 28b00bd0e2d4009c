// The version of this redisfs build, from package.json (read once).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function redisfsVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
      cached = pkg.version ?? 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
