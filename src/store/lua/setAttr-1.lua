-- chmod, chown, utimens: sets the given fields and ctime.
-- Input:  KEYS[1] vol; ARGV session, now, ino, then field/value pairs among m u g at mt
-- Output: changed items; fails ENOENT
local ino = ARGV[3]
if redis.call('EXISTS', K_inode(ino)) == 0 then return fail('ENOENT') end
for i = 4, #ARGV, 2 do redis.call('HSET', K_inode(ino), ARGV[i], ARGV[i + 1]) end
redis.call('HSET', K_inode(ino), 'ct', NOW)
inv_attrs(ino)
return publish()
