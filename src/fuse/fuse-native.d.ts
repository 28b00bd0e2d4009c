// The little of fuse-native's untyped API this adapter relies on.
declare module 'fuse-native' {
  type Signal = (res: number, ...rest: unknown[]) => void;
  class Fuse {
    constructor(mnt: string, ops: Record<string, unknown>, opts?: Record<string, unknown>);
    mnt: string;
    ops: Record<string, (...args: any[]) => void>;
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    _fuseOptions(): string;
    _op_getattr(signal: Signal, path: string): void;
    _op_fgetattr(signal: Signal, path: string, fd: number): void;
    _op_readdir(signal: Signal, path: string): void;
    _op_create(signal: Signal, path: string, mode: number, flags: number): void;
    _op_utimens(signal: Signal, path: string, aLow: number, aHigh: number, mLow: number, mHigh: number): void;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
  }
  export default Fuse;
}
