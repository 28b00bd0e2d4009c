#!lua flags=no-writes
-- Reads the attributes of many inodes at once (a listing page with attributes): one command
-- instead of one HGETALL each, which cost ~25 µs apiece in the client alone.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), ino...
-- Output: per inode, its inode hash as a flat list (empty when the inode is gone)
local out = {}
for i = 3, #ARGV do out[#out + 1] = redis.call('HGETALL', K_inode(ARGV[i])) end
return out
