-- link(2): a new name for an existing non-directory inode.
-- Input:  KEYS[1] vol; ARGV session, now, ino, parent, name
-- Output: changed items; fails ENOENT, EPERM (directory), ENOTDIR, EEXIST
local ino, parent, name = ARGV[3], ARGV[4], ARGV[5]
local t = redis.call('HGET', K_inode(ino), 't')
if not t then return fail('ENOENT') end
if t == 'd' then return fail('EPERM') end
local bad = check_dir(parent)
if bad then return fail(bad) end
if redis.call('HEXISTS', K_entries(parent), name) == 1 then return fail('EEXIST') end
redis.call('HSET', K_entries(parent), name, t .. ino)
redis.call('HINCRBY', K_inode(ino), 'n', 1)
redis.call('HSET', K_inode(ino), 'ct', NOW)
touch_dir(parent, 0)
inv_attrs(ino)
inv_entry(parent, name)
return publish()
