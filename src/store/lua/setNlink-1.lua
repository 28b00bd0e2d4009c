-- fsck --repair: sets an inode's link count to the number of entries naming it.
-- Does nothing unless the count is still the one fsck saw (no link or unlink raced it).
-- Input:  KEYS[1] vol; ARGV session, now, ino, nlink seen, nlink wanted
-- Output: changed items (empty when nothing was done)
local ino, seen, want = ARGV[3], ARGV[4], ARGV[5]
if redis.call('HGET', K_inode(ino), 'n') ~= seen then return {} end
redis.call('HSET', K_inode(ino), 'n', want, 'ct', NOW)
inv_inode(ino)
return publish()
