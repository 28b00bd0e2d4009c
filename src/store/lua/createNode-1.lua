-- Input:  KEYS[1] vol; ARGV session, now, parent, name, type, ino, mode, uid, gid, rdev, target
-- Output: changed items; fails ENOENT/ENOTDIR (parent), EEXIST (name)
local parent, name, t, ino = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local bad = check_dir(parent)
if bad then return fail(bad) end
if redis.call('HEXISTS', K_entries(parent), name) == 1 then return fail('EEXIST') end
local nlink, size = 1, 0
if t == 'd' then nlink = 2 end
if t == 'l' then size = #ARGV[11] end
redis.call('HSET', K_inode(ino), 't', t, 'm', ARGV[7], 'u', ARGV[8], 'g', ARGV[9], 'n', nlink,
  's', size, 'at', NOW, 'mt', NOW, 'ct', NOW, 'r', ARGV[10], 'v', 0)
if t == 'd' then redis.call('HSET', K_inode(ino), 'p', parent) end
if t == 'l' then
  redis.call('HSET', K_inode(ino), 'l', ARGV[11])
  redis.call('HINCRBY', K_ctr, 'bytes', size)
end
redis.call('HSET', K_entries(parent), name, t .. ino)
redis.call('HINCRBY', K_ctr, 'inodes', 1)
if t == 'd' then touch_dir(parent, 1) else touch_dir(parent, 0) end
attrs_changed(ino)
inv_entry(parent, name)
return publish()
