#!lua flags=no-writes
-- Looks a name up and reads its inode's attributes in one atomic step: a cold lookup (a name
-- this mount has not seen, e.g. a file another host just created) is one round trip, not two.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), parent, name
-- Output: false when the name is absent, else { entry value, the inode's fields t m u g n s
--         at mt ct r v k joined by ',' ('' when the inode is gone) }
local v = redis.call('HGET', K_entries(ARGV[3]), ARGV[4])
if not v then return false end
local f = redis.call('HMGET', K_inode(string.sub(v, 2)), 't', 'm', 'u', 'g', 'n', 's', 'at', 'mt', 'ct', 'r', 'v', 'k')
if not f[1] then return { v, '' } end
for j = 2, #f do if not f[j] then f[j] = '' end end
return { v, table.concat(f, ',') }
