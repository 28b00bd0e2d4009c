// Progress of a long pass: a bar on a terminal (cli-progress), a plain line every few seconds
// otherwise (logs, pipes). Totals are estimates when Redis cannot count exactly.
import cliProgress from 'cli-progress';

export interface Progress {
  /** phase starts a new phase (a new bar) with an estimated total. */
  phase(name: string, total: number): void;
  /** tick adds n done items to the current phase. */
  tick(n?: number): void;
  /** grow raises the current phase's total (items discovered as the work goes). */
  grow(n: number): void;
  stop(): void;
}

export function makeProgress(quiet: boolean): Progress {
  if (quiet) return { phase() {}, tick() {}, grow() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream: process.stderr,
      format: '{phase} [{bar}] {percentage}% {value}/{total} {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic);
    let running = false;
    let grown = false;
    return {
      phase(name, total) {
        if (running) bar.stop();
        bar.start(Math.max(total, 1), 0, { phase: name.padEnd(10) });
        running = true;
        grown = false;
      },
      grow(n) {
        if (!running) return;
        bar.setTotal(grown ? bar.getTotal() + n : n);
        grown = true;
      },
      tick(n = 1) {
        if (!running) return;
        if (!grown && bar.getProgress() >= 1) bar.setTotal(bar.getTotal() * 2); // the estimate was low
        bar.increment(n);
      },
      stop() { if (running) bar.stop(); running = false; },
    };
  }
  let name = '';
  let total = 0;
  let done = 0;
  let last = 0;
  const line = (): void => { process.stderr.write(`${name}: ${done}${total ? ` of ~${total}` : ''}\n`); };
  return {
    phase(n, t) {
      if (name && done > 0) line();
      name = n; total = t; done = 0; last = Date.now();
    },
    grow(n) { total += n; },
    tick(n = 1) {
      done += n;
      if (Date.now() - last >= 2000) { last = Date.now(); line(); }
    },
    stop() { if (name) line(); name = ''; },
  };
}
