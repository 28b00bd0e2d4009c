-- Removes a mount that stopped heart-beating (its daemon died or lost Redis for good): its
-- registry entry, its stats, and the orphans it kept open (deleted as purgeOrphan would).
-- Does nothing if the entry changed since the caller judged it stale (it came back).
-- Input:  KEYS[1] vol; ARGV session (the reaper's), now, dead session, its entry as read
-- Output: changed items (the orphans deleted); an empty list when it was not reaped
local dead, seen = ARGV[3], ARGV[4]
if redis.call('HGET', K_mounts, dead) ~= seen then return {} end
redis.call('HDEL', K_mounts, dead)
redis.call('DEL', K_mstat(dead))
local flat = redis.call('HGETALL', K_orphans)
for i = 1, #flat, 2 do
  local ino, holder = flat[i], flat[i + 1]
  if holder == dead then purge_orphan(ino) end
end
return publish()
