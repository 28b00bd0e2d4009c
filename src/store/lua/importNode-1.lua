-- Creates a node with its attributes, times and content in one step (redisfs import): a file
-- with inline data or a chunk map of chunks uploaded beforehand, a directory, a symlink, a
-- special node.
-- Input:  KEYS[1] vol; ARGV session, now, parent, name, type, ino, mode, uid, gid, rdev,
--         target, atime, mtime, size, inline ('1' then ARGV[16] is the content, '0' then
--         ARGV[16..] are chunk index/id pairs)
-- Output: changed items; fails ENOENT/ENOTDIR (parent), EEXIST (name)
local parent, name, t, ino = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local bad = check_dir(parent)
if bad then return fail(bad) end
if redis.call('HEXISTS', K_entries(parent), name) == 1 then return fail('EEXIST') end
local size = tonumber(ARGV[14])
local nlink = 1
if t == 'd' then nlink = 2 end
local k = 0
if t == 'f' then
  if ARGV[15] == '1' then
    if #ARGV[16] > 0 then redis.call('SET', K_inline(ino), ARGV[16]) end
  else
    for i = 16, #ARGV, 2 do
      redis.call('HSET', K_chunks(ino), ARGV[i], ARGV[i + 1])
      k = k + 1
    end
  end
end
redis.call('HSET', K_inode(ino), 't', t, 'm', ARGV[7], 'u', ARGV[8], 'g', ARGV[9], 'n', nlink,
  's', ARGV[14], 'at', ARGV[12], 'mt', ARGV[13], 'ct', NOW, 'r', ARGV[10], 'v', 0, 'k', k)
if t == 'd' then redis.call('HSET', K_inode(ino), 'p', parent) end
if t == 'l' then redis.call('HSET', K_inode(ino), 'l', ARGV[11]) end
if size > 0 then redis.call('HINCRBY', K_ctr, 'bytes', ARGV[14]) end
redis.call('HSET', K_entries(parent), name, t .. ino)
redis.call('HINCRBY', K_ctr, 'inodes', 1)
if t == 'd' then touch_dir(parent, 1) else touch_dir(parent, 0) end
attrs_changed(ino)
inv_entry(parent, name)
return publish()
