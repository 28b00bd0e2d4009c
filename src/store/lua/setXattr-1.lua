-- setxattr(2). Input: KEYS[1] vol; ARGV session, now, ino, name, value, flags (1 CREATE, 2 REPLACE)
-- Output: changed items; fails ENOENT, EEXIST, ENODATA
local ino, name, value, flags = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
if redis.call('EXISTS', K_inode(ino)) == 0 then return fail('ENOENT') end
local exists = redis.call('HEXISTS', K_xattrs(ino), name) == 1
if flags == 1 and exists then return fail('EEXIST') end
if flags == 2 and not exists then return fail('ENODATA') end
redis.call('HSET', K_xattrs(ino), name, value)
redis.call('HSET', K_inode(ino), 'ct', NOW)
inv_attrs(ino)
return publish()
