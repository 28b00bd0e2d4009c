-- Input:  KEYS[1] vol; ARGV session(unused), now, format, chunkSize, inlineMax, uid, gid, pubsub
-- Output: the volume's settings as a flat hash (existing ones when the volume exists)
-- pubsub: 'sharded' when the volume is made on a Redis cluster (format 2: see publish_command
-- in prelude.lua and FORMAT_SHARDED in meta-store.ts).
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'format', ARGV[3], 'chunkSize', ARGV[4], 'inlineMax', ARGV[5], 'created', NOW)
  if ARGV[8] == 'sharded' then redis.call('HSET', KEYS[1], 'pubsub', 'sharded') end
  redis.call('HSET', K_ctr, 'ino', 1, 'inodes', 1, 'bytes', 0)
  redis.call('HSET', K_inode(ROOT), 't', 'd', 'm', 16877, 'u', ARGV[6], 'g', ARGV[7], 'n', 2, 's', 0,
    'at', NOW, 'mt', NOW, 'ct', NOW, 'r', 0, 'v', 0, 'p', ROOT)
end
return redis.call('HGETALL', KEYS[1])
