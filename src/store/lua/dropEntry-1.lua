-- fsck --repair: removes a directory entry whose inode does not exist (a dangling entry).
-- Does nothing unless the entry still holds the value fsck saw and its inode is still missing.
-- Input:  KEYS[1] vol; ARGV session, now, parent, name, value seen (e.g. "f42")
-- Output: changed items (empty when nothing was done)
local parent, name, seen = ARGV[3], ARGV[4], ARGV[5]
if redis.call('HGET', K_entries(parent), name) ~= seen then return {} end
if redis.call('EXISTS', K_inode(string.sub(seen, 2))) == 1 then return {} end
redis.call('HDEL', K_entries(parent), name)
if string.sub(seen, 1, 1) == 'd' then touch_dir(parent, -1) else touch_dir(parent, 0) end
inv_entry(parent, name)
return publish()
