#!lua flags=no-writes
-- Reads the attributes of many inodes at once (a listing page with attributes): one command
-- instead of one HGETALL each. Inodes go in as one string and attributes come back as one:
-- the daemon's work per argument and per reply string (building, sending and parsing them)
-- cost it more than Redis's own work.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), inodes joined by ','
-- Output: per inode, packed_attrs (prelude.lua), the inodes' lines joined by '\n'
local out = {}
for ino in string.gmatch(ARGV[3], '[^,]+') do out[#out + 1] = packed_attrs(ino) end
return table.concat(out, '\n')
