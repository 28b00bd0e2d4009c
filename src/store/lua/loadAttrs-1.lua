#!lua flags=no-writes
-- Reads the attributes of many inodes at once (a listing page with attributes): one command
-- instead of one HGETALL each, and one string per inode, because turning thousands of reply
-- strings into JS strings cost more than Redis's own work.
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), ino...
-- Output: per inode, its fields t m u g n s at mt ct r v k joined by ',' ('' when gone)
local out = {}
for i = 3, #ARGV do
  local v = redis.call('HMGET', K_inode(ARGV[i]), 't', 'm', 'u', 'g', 'n', 's', 'at', 'mt', 'ct', 'r', 'v', 'k')
  if v[1] then
    for j = 2, #v do if not v[j] then v[j] = '' end end
    out[#out + 1] = table.concat(v, ',')
  else
    out[#out + 1] = ''
  end
end
return out
