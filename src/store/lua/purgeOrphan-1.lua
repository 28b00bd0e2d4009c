-- Deletes an orphan (an inode with no names left, kept while open) once its last handle on the
-- mount that kept it is closed. Does nothing if it got a name again meanwhile (link).
-- Input:  KEYS[1] vol; ARGV session, now, ino
-- Output: changed items
local ino = ARGV[3]
redis.call('HDEL', K_orphans, ino)
local n = redis.call('HGET', K_inode(ino), 'n')
if n and tonumber(n) <= 0 then
  delete_inode(ino)
  inv_inode(ino)
end
return publish()
