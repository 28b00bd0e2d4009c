-- fsck --repair: gives an unreachable inode (one no entry names) the name #<ino> in
-- /lost+found, creating that directory (with the inode number the caller reserved) if needed.
-- Does nothing if the inode is gone or was named meanwhile by something fsck could not see.
-- Input:  KEYS[1] vol; ARGV session, now, ino, ino for lost+found, uid, gid
-- Output: changed items; fails ENOTDIR when /lost+found exists and is not a directory
local ino, lf_new = ARGV[3], ARGV[4]
local t = redis.call('HGET', K_inode(ino), 't')
if not t then return {} end
local lf
local v = redis.call('HGET', K_entries(ROOT), 'lost+found')
if v then
  if string.sub(v, 1, 1) ~= 'd' then return fail('ENOTDIR') end
  lf = string.sub(v, 2)
else
  lf = lf_new
  redis.call('HSET', K_inode(lf), 't', 'd', 'm', 16832, 'u', ARGV[5], 'g', ARGV[6], 'n', 2, 's', 0,
    'at', NOW, 'mt', NOW, 'ct', NOW, 'r', 0, 'v', 0, 'p', ROOT)
  redis.call('HSET', K_entries(ROOT), 'lost+found', 'd' .. lf)
  redis.call('HINCRBY', K_ctr, 'inodes', 1)
  touch_dir(ROOT, 1)
  inv_entry(ROOT, 'lost+found')
end
local name = '#' .. ino
if redis.call('HEXISTS', K_entries(lf), name) == 1 then return publish() end
redis.call('HSET', K_entries(lf), name, t .. ino)
redis.call('HDEL', K_orphans, ino)
if t == 'd' then
  redis.call('HSET', K_inode(ino), 'p', lf)
  touch_dir(lf, 1)
else
  redis.call('HSET', K_inode(ino), 'n', 1, 'ct', NOW)
  touch_dir(lf, 0)
end
inv_inode(ino)
inv_entry(lf, name)
return publish()
