-- unlink(2) and rmdir(2).
-- Input:  KEYS[1] vol; ARGV session, now, parent, name, wantDir ('1' rmdir, '0' unlink),
--         keep (an inode the caller holds open, or '0')
-- Output: changed items; fails ENOENT, ENOTDIR, EISDIR, ENOTEMPTY
local parent, name, want_dir = ARGV[3], ARGV[4], ARGV[5] == '1'
KEEP = ARGV[6] or '0'
local v = redis.call('HGET', K_entries(parent), name)
if not v then return fail('ENOENT') end
local t, ino = string.sub(v, 1, 1), string.sub(v, 2)
if want_dir then
  if t ~= 'd' then return fail('ENOTDIR') end
  if redis.call('HLEN', K_entries(ino)) > 0 then return fail('ENOTEMPTY') end
elseif t == 'd' then
  return fail('EISDIR')
end
redis.call('HDEL', K_entries(parent), name)
if t == 'd' then touch_dir(parent, -1) else touch_dir(parent, 0) end
drop_link(ino, t)
inv_entry(parent, name)
return publish()
