#!lua flags=no-writes
-- Reads a file's attributes with its inline data and chunk map in one atomic step (a MULTI
-- would do, but Redis 7 refuses any MULTI when it is out of memory; a no-writes script runs).
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), ino
-- Output: { inode hash as a flat list, inline data or false, chunk map as a flat list }
local ino = ARGV[3]
return { redis.call('HGETALL', K_inode(ino)), redis.call('GET', K_inline(ino)), redis.call('HGETALL', K_chunks(ino)) }
