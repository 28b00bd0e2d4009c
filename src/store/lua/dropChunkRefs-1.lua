-- fsck --repair: removes chunk-map entries of a file that point at missing chunks or lie past
-- its size; the range then reads as a hole (zeros). Each entry goes only if it still names the
-- chunk fsck saw. Recounts k (chunks holding data).
-- Input:  KEYS[1] vol; ARGV session, now, ino, then index/id pairs
-- Output: changed items (empty when nothing was done)
local ino = ARGV[3]
local km = K_chunks(ino)
local dropped = 0
for i = 4, #ARGV, 2 do
  if redis.call('HGET', km, ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', km, ARGV[i])
    redis.call('ZADD', K_reclaim, NOW_MS, ARGV[i + 1])
    dropped = dropped + 1
  end
end
if dropped == 0 then return {} end
if redis.call('EXISTS', K_inode(ino)) == 1 then
  redis.call('HSET', K_inode(ino), 'k', redis.call('HLEN', km), 'ct', NOW)
end
inv_inode(ino)
return publish()
