#!lua flags=no-writes
-- Reads one page of a directory's entries with every entry's attributes (a listing with
-- attributes, readdirplus): one round trip and one reply string per page, where HSCAN and
-- then loadAttrs took two round trips and thousands of reply strings, and the first page can
-- be served before the rest of the directory is scanned.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), dir, cursor, count (HSCAN's hint)
-- Output: the next cursor ('0': done), the directory's version ('' if gone: prelude.lua),
--         then per entry its name, entry value and packed_attrs
--         (prelude.lua; '' when the inode is gone), all joined by '\0', which no name holds.
--         Attributes come from the inode's packed copy (prelude.lua), trusted only while pt
--         ends with the inode's ct: every change sets ct, so a writer that did not repack
--         (an older redisfs) is never believed; the fields are read then.
local r = redis.call('HSCAN', K_entries(ARGV[3]), ARGV[4], 'COUNT', ARGV[5])
local flat = r[2]
local out = { r[1], redis.call('HGET', K_inode(ARGV[3]), 'v') or '' }
for i = 1, #flat - 1, 2 do
  local v = flat[i + 1]
  out[#out + 1] = flat[i]
  out[#out + 1] = v
  local ino = string.sub(v, 2)
  local f = redis.call('HMGET', K_inode(ino), 'pa', 'pt', 'ct')
  local pt, ct = f[2], f[3]
  local comma = pt and ct and #pt - #ct
  if f[1] and comma and string.byte(pt, comma) == 44 and string.find(pt, ct, comma + 1, true) then
    out[#out + 1] = f[1] .. ',' .. pt
  else
    out[#out + 1] = packed_attrs(ino)
  end
end
return table.concat(out, '\0')
