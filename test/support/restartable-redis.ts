// A redis-server a test can kill and restart on the same port and data directory (for
// outages, restarts, failovers), or run as a replica or a sentinel.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { redisCommand } from './redis.js';

/** listening resolves true once something accepts TCP connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export class RestartableRedis {
  private child: ChildProcess | undefined;
  /** mode 'tls': extra carries the whole TLS configuration, and readiness is checked over TLS. */
  constructor(readonly port: number, readonly dir: string, private readonly extra: string[], private readonly mode: 'server' | 'sentinel' | 'tls' = 'server') {}
  get url(): string { return `redis://127.0.0.1:${this.port}`; }
  async start(): Promise<void> {
    const args = this.mode === 'sentinel'
      ? [...this.extra, '--sentinel']
      : this.mode === 'tls'
        ? ['--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.extra]
        : ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', ...this.extra];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if (this.mode === 'tls' ? await listening(this.port) : (await redisCommand(this.port, 'PING')) === '+PONG') return;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async kill(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
  }
  /** pause freezes the server (SIGSTOP): connections stay up and commands wait, as in a stall. */
  pause(): void { this.child?.kill('SIGSTOP'); }
  /** resume lets a paused server answer again (SIGCONT). */
  resume(): void { this.child?.kill('SIGCONT'); }
  command(cmd: string): Promise<string> { return redisCommand(this.port, cmd); }
}
