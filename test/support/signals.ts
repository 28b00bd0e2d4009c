// System calls made by a process that gets a signal while it waits on a FUSE request: what the
// call returned and how long it took, or how long the process took to die.
import { spawn, spawnSync } from 'node:child_process';
import { waitExit } from './redis.js';

/** Whether python3 (the caller of interruptedCall) is installed. */
export const HAVE_PYTHON3 = spawnSync('python3', ['-c', ''], { stdio: 'ignore' }).status === 0;

export interface CallOutcome {
  /** 'ok', or the errno's code (EINTR…). */
  readonly result: string;
  readonly ms: number;
}

// Calls libc directly (ctypes): Python's own wrappers retry a call that failed with EINTR. The
// SIGALRM handler does nothing, so the signal interrupts the call instead of ending the process.
const PROBE = `
import ctypes, errno, json, os, signal, sys, time
call, path, after = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGALRM, lambda *_: None)
signal.setitimer(signal.ITIMER_REAL, after)
t = time.monotonic()
r = libc.open(path, os.O_RDONLY) if call == 'open' else libc.chmod(path, 0o600)
e = ctypes.get_errno() if r < 0 else 0
print(json.dumps({'result': errno.errorcode.get(e, str(e)) if r < 0 else 'ok', 'ms': (time.monotonic() - t) * 1000}))
`;

/**
 * interruptedCall runs open(path, O_RDONLY) or chmod(path, 0600) in a python3 child that gets
 * SIGALRM (caught) `afterMs` into the call.
 */
export function interruptedCall(call: 'open' | 'chmod', path: string, afterMs: number): Promise<CallOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PROBE, call, path, String(afterMs / 1000)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out) as CallOutcome);
      } catch {
        reject(new Error(`probe exited ${code}: ${out}${err}`));
      }
    });
  });
}

/** killedWhileWaiting runs `cmd args`, SIGKILLs it after `afterMs` and returns how long it then took to exit. */
export async function killedWhileWaiting(cmd: string, args: string[], afterMs: number, timeoutMs = 30_000): Promise<number> {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, afterMs));
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${cmd} exited before the signal: it did not wait`);
  const t0 = performance.now();
  child.kill('SIGKILL');
  if (!(await waitExit(child, timeoutMs))) throw new Error(`${cmd} still alive ${timeoutMs} ms after SIGKILL`);
  return performance.now() - t0;
}
