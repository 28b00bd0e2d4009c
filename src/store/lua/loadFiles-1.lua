#!lua flags=no-writes
-- Reads several files as loadFile-1.lua reads one (files a reader going through a listing
-- will open next): one round trip for many small files.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), ino...
-- Output: per inode, loaded_file (prelude.lua)
local out = {}
for i = 3, #ARGV do out[#out + 1] = loaded_file(ARGV[i]) end
return out
