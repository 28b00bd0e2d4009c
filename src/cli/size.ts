// Parses human sizes such as 512M, 1G, 64k (powers of 1024) or plain byte counts.
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid size '${text}' (examples: 512M, 1G, 65536)`);
  return Math.floor(Number(m[1]) * unit);
}
