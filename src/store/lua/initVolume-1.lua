-- Input:  KEYS[1] vol; ARGV session(unused), now, format, chunkSize, inlineMax, uid, gid
-- Output: the volume's settings as a flat hash (existing ones when the volume exists)
-- format 2: made on a Redis cluster, invalidations sharded (publish_command in prelude.lua).
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'format', ARGV[3], 'chunkSize', ARGV[4], 'inlineMax', ARGV[5], 'created', NOW)
  redis.call('HSET', K_ctr, 'ino', 1, 'inodes', 1, 'bytes', 0)
  redis.call('HSET', K_inode(ROOT), 't', 'd', 'm', 16877, 'u', ARGV[6], 'g', ARGV[7], 'n', 2, 's', 0,
    'at', NOW, 'mt', NOW, 'ct', NOW, 'r', 0, 'v', 0, 'p', ROOT)
end
return redis.call('HGETALL', KEYS[1])
