-- rename(2): atomically moves an entry, replacing a compatible target.
-- Input:  KEYS[1] vol; ARGV session, now, srcParent, srcName, dstParent, dstName, flags,
--         keep (an inode the caller holds open, or '0')
--         (flags: 1 RENAME_NOREPLACE, 2 RENAME_EXCHANGE)
-- Output: changed items; fails ENOENT, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, EEXIST
local sp, sn, dp, dn, flags = ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
KEEP = ARGV[8] or '0'
local sv = redis.call('HGET', K_entries(sp), sn)
if not sv then return fail('ENOENT') end
local bad = check_dir(dp)
if bad then return fail(bad) end
local dv = redis.call('HGET', K_entries(dp), dn)
if dv == sv then return publish() end -- both names already link the same inode
local st, sino = string.sub(sv, 1, 1), string.sub(sv, 2)
if st == 'd' then
  -- a directory may not move below itself: walk up from the destination to the root
  local a = dp
  while a ~= ROOT do
    if a == sino then return fail('EINVAL') end
    a = redis.call('HGET', K_inode(a), 'p')
    if not a then return fail('ENOENT') end
  end
end
local dt, dino
if dv then
  if flags == 1 then return fail('EEXIST') end
  dt, dino = string.sub(dv, 1, 1), string.sub(dv, 2)
  if flags ~= 2 then
    if st == 'd' and dt ~= 'd' then return fail('ENOTDIR') end
    if st ~= 'd' and dt == 'd' then return fail('EISDIR') end
    if dt == 'd' and redis.call('HLEN', K_entries(dino)) > 0 then return fail('ENOTEMPTY') end
  end
elseif flags == 2 then
  return fail('ENOENT')
end
if flags == 2 then
  redis.call('HSET', K_entries(sp), sn, dv)
  redis.call('HSET', K_entries(dp), dn, sv)
  if sp ~= dp then
    if dt == 'd' then redis.call('HSET', K_inode(dino), 'p', sp) end
    if st == 'd' then redis.call('HSET', K_inode(sino), 'p', dp) end
    local delta = 0
    if st == 'd' then delta = delta - 1 end
    if dt == 'd' then delta = delta + 1 end
    touch_dir(sp, delta)
    touch_dir(dp, -delta)
  else
    touch_dir(sp, 0)
  end
  redis.call('HSET', K_inode(dino), 'ct', NOW)
  inv_inode(dino)
else
  redis.call('HDEL', K_entries(sp), sn)
  redis.call('HSET', K_entries(dp), dn, sv)
  local src_delta, dst_delta = 0, 0
  if dv then
    if dt == 'd' then dst_delta = dst_delta - 1 end
    drop_link(dino, dt)
  end
  if st == 'd' and sp ~= dp then
    src_delta = src_delta - 1
    dst_delta = dst_delta + 1
    redis.call('HSET', K_inode(sino), 'p', dp)
  end
  if sp == dp then
    touch_dir(sp, src_delta + dst_delta)
  else
    touch_dir(sp, src_delta)
    touch_dir(dp, dst_delta)
  end
end
redis.call('HSET', K_inode(sino), 'ct', NOW)
inv_inode(sino)
inv_entry(sp, sn)
inv_entry(dp, dn)
return publish()
