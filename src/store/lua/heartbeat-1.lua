-- A mount's heartbeat: (re)writes its registry entry stamped with the server's clock (so hosts
-- with skewed clocks agree on staleness) and, if given, its stats snapshot with a TTL.
-- Input:  KEYS[1] vol; ARGV session, now(unused), entry JSON without its closing brace,
--         stats JSON ('' for none), stats TTL in ms
-- Output: the heartbeat time in ms (server clock)
local t = redis.call('TIME')
local ms = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('HSET', K_mounts, SESSION, ARGV[3] .. ',"heartbeat":' .. ms .. '}')
if #ARGV[4] > 0 then redis.call('SET', K_mstat(SESSION), ARGV[4], 'PX', ARGV[5]) end
return ms
