-- Commits a file's new content: size, times, and either inline data or chunk-map changes,
-- bumping the version (publish). Chunks it replaces or cuts off go to the reclaim queue.
-- Input:  KEYS[1] vol; ARGV session, now, ino, size, mtime, chunkSize, dropFrom (-1: none),
--         inline ('1' then ARGV[9] is the content, '0' then ARGV[9..] are index/id pairs)
-- Output: changed items; fails ESTALE when the inode is gone (deleted by another host)
local ino, size, mtime = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local cs, drop_from, inline = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
local old = redis.call('HGET', K_inode(ino), 's')
if not old then
  for i = 10, #ARGV, 2 do redis.call('ZADD', K_reclaim, NOW_MS, ARGV[i]) end
  return fail('ESTALE')
end
old = tonumber(old)
if size ~= old then redis.call('HINCRBY', K_ctr, 'bytes', string.format('%d', size - old)) end
if inline then
  reclaim_chunks(ino)
  redis.call('DEL', K_chunks(ino))
  if #ARGV[9] > 0 then redis.call('SET', K_inline(ino), ARGV[9]) else redis.call('DEL', K_inline(ino)) end
else
  redis.call('DEL', K_inline(ino))
  local km = K_chunks(ino)
  if drop_from >= 0 then
    local last = math.ceil(old / cs) - 1
    for idx = drop_from, last do
      local id = redis.call('HGET', km, idx)
      if id then
        redis.call('ZADD', K_reclaim, NOW_MS, id)
        redis.call('HDEL', km, idx)
      end
    end
  end
  for i = 9, #ARGV, 2 do
    local prev = redis.call('HGET', km, ARGV[i])
    if prev and prev ~= ARGV[i + 1] then redis.call('ZADD', K_reclaim, NOW_MS, prev) end
    redis.call('HSET', km, ARGV[i], ARGV[i + 1])
  end
end
-- k: how many chunks hold data, so st_blocks can leave holes out
local k = 0
if not inline then k = redis.call('HLEN', K_chunks(ino)) end
redis.call('HSET', K_inode(ino), 's', ARGV[4], 'mt', mtime, 'ct', NOW, 'k', k)
inv_inode(ino)
if inline then push_content(ino, ARGV[9]) end
return publish()
