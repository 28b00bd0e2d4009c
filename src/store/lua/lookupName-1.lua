#!lua flags=no-writes
-- Looks a name up and reads its inode's attributes in one atomic step: a cold lookup (a name
-- this mount has not seen, e.g. a file another host just created) is one round trip, not two.
-- A small file's inline content comes along: whoever looks a file up mostly opens and reads
-- it next, and a file another host just wrote is then served after one round trip, not two.
-- The directory's version says when the answer was true (prelude.lua).
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), parent, name
-- Output: { entry value or false (absent), packed_attrs (prelude.lua) or '', inline content
--         or false (none: chunks, or not a regular file), the directory's version or false }
local dirv = redis.call('HGET', K_inode(ARGV[3]), 'v')
local v = redis.call('HGET', K_entries(ARGV[3]), ARGV[4])
if not v then return { false, '', false, dirv } end
local ino = string.sub(v, 2)
local inline = false
if string.sub(v, 1, 1) == 'f' then inline = redis.call('GET', K_inline(ino)) end
return { v, packed_attrs(ino), inline, dirv }
