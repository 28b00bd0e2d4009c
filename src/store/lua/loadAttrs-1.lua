#!lua flags=no-writes
-- Reads the attributes of many inodes at once (a listing page with attributes): one command
-- instead of one HGETALL each. Inodes go in as one string and attributes come back as one:
-- the daemon's work per argument and per reply string (building, sending and parsing them)
-- cost it more than Redis's own work.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), inodes joined by ','
-- Output: per inode, its fields t m u g n s at mt ct r v k joined by ',' ('' when gone), the
--         inodes' lines joined by '\n'
local out = {}
for ino in string.gmatch(ARGV[3], '[^,]+') do
  local v = redis.call('HMGET', K_inode(ino), 't', 'm', 'u', 'g', 'n', 's', 'at', 'mt', 'ct', 'r', 'v', 'k')
  if v[1] then
    for j = 2, #v do if not v[j] then v[j] = '' end end
    out[#out + 1] = table.concat(v, ',')
  else
    out[#out + 1] = ''
  end
end
return table.concat(out, '\n')
