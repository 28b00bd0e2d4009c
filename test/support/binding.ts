// What the FUSE binding under test cannot do. libfuse2's high-level API (fuse-native) drops a
// utimensat that sets only one time, and fails fstat/open by a name replaced a moment before
// (it resolves GETATTR/OPEN by path): see docs/ARCHITECTURE.md, "Kernel caches". Tests of
// those behaviours are skipped on it and run on a binding that has them (issue 6). Unset, the
// tests run on the CLI's default binding, lowlevel (REDISFS_TEST_BINDING=fuse-native for the
// fallback).
export const BINDING = process.env.REDISFS_TEST_BINDING ?? 'lowlevel';
export const LIBFUSE2_HIGH_LEVEL = BINDING === 'fuse-native';
