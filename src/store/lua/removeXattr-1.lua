-- removexattr(2). Input: KEYS[1] vol; ARGV session, now, ino, name
-- Output: changed items; fails ENOENT, ENODATA
local ino, name = ARGV[3], ARGV[4]
if redis.call('EXISTS', K_inode(ino)) == 0 then return fail('ENOENT') end
if redis.call('HDEL', K_xattrs(ino), name) == 0 then return fail('ENODATA') end
redis.call('HSET', K_inode(ino), 'ct', NOW)
inv_attrs(ino)
return publish()
