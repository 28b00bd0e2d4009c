// fuse-native's Fuse class as our patch (patches/fuse-native-2.2.6.patch) speaks it: the -o
// string is ours, stat arrays arrive ready-made with ns times, create gets its open flags and
// utimens its two times (or UTIME_NOW/OMIT). The redisfs adapter and the benchmark's null
// filesystem both mount through it, so the null reference runs the very same binding.
import Fuse from 'fuse-native';
import { utimensArg } from './stat-array.js';

export type Cb = (res: number, ...rest: unknown[]) => void;

export class PatchedFuse extends Fuse {
  constructor(mnt: string, ops: Record<string, unknown>, private readonly optionString: string) {
    super(mnt, ops, { force: false, mkdir: false });
  }
  override _fuseOptions(): string { return this.optionString; }
  override _op_getattr(signal: Cb, path: string): void {
    this.ops.getattr!(path, (err: number, st?: Uint32Array) => signal(err, st ?? new Uint32Array(18)));
  }
  override _op_fgetattr(signal: Cb, path: string, fd: number): void {
    this.ops.fgetattr!(path, fd, (err: number, st?: Uint32Array) => signal(err, st ?? new Uint32Array(18)));
  }
  override _op_readdir(signal: Cb, path: string): void {
    this.ops.readdir!(path, (err: number, names?: string[], stats?: Uint32Array[]) => (err ? signal(err) : signal(0, names, stats)));
  }
  override _op_create(signal: Cb, path: string, mode: number, flags: number): void {
    this.ops.create!(path, mode, flags, (err: number, fh?: number) => signal(err, fh));
  }
  override _op_utimens(signal: Cb, path: string, aLow: number, aHigh: number, mLow: number, mHigh: number): void {
    this.ops.utimens!(path, utimensArg(aLow, aHigh), utimensArg(mLow, mHigh), (err: number) => signal(err));
  }
}
