#!lua flags=no-writes
-- Reads several files as loadFile-1.lua reads one (files a reader going through a listing
-- will open next): one round trip for many small files.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), ino...
-- Output: per inode { inode hash as a flat list, inline data or false, chunk map as a flat list }
local out = {}
for i = 3, #ARGV do
  local ino = ARGV[i]
  out[#out + 1] = { redis.call('HGETALL', K_inode(ino)), redis.call('GET', K_inline(ino)), redis.call('HGETALL', K_chunks(ino)) }
end
return out
