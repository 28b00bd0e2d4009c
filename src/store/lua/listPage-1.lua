#!lua flags=no-writes
-- Reads one page of a directory's entries with every entry's attributes (a listing with
-- attributes, readdirplus): one round trip and one reply string per page, where HSCAN and
-- then loadAttrs took two round trips and thousands of reply strings, and the first page can
-- be served before the rest of the directory is scanned.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), dir, cursor, count (HSCAN's hint)
-- Output: the next cursor ('0': done), then per entry its name, entry value and packed_attrs
--         (prelude.lua; '' when the inode is gone), all joined by '\0', which no name holds
local r = redis.call('HSCAN', K_entries(ARGV[3]), ARGV[4], 'COUNT', ARGV[5])
local flat = r[2]
local out = { r[1] }
for i = 1, #flat - 1, 2 do
  local v = flat[i + 1]
  out[#out + 1] = flat[i]
  out[#out + 1] = v
  out[#out + 1] = packed_attrs(string.sub(v, 2))
end
return table.concat(out, '\0')
