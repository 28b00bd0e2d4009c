#!lua flags=no-writes
-- Looks a name up and reads its inode's attributes in one atomic step: a cold lookup (a name
-- this mount has not seen, e.g. a file another host just created) is one round trip, not two.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), parent, name
-- Output: false when the name is absent, else { entry value, packed_attrs (prelude.lua) }
local v = redis.call('HGET', K_entries(ARGV[3]), ARGV[4])
if not v then return false end
return { v, packed_attrs(string.sub(v, 2)) }
