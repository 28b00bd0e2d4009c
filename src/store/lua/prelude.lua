-- Shared by every script (prepended at load). KEYS[1] is always rfs:{V}:vol; the other
-- metadata keys of the volume are named from its prefix here, mirroring keys.ts, because a
-- script often discovers an inode (an entry's target) only while it runs. All of them carry
-- the volume's hash tag, so they live in the same slot as KEYS[1] on Redis Cluster.
-- ARGV[1] is the writer's session id and ARGV[2] the time in ns; every script publishes what
-- it changed on the volume's invalidation channel and returns the same items.
local P = string.sub(KEYS[1], 1, #KEYS[1] - 3)
local function K_inode(ino) return P .. 'i:' .. ino end
local function K_entries(ino) return P .. 'e:' .. ino end
local function K_chunks(ino) return P .. 'c:' .. ino end
local function K_inline(ino) return P .. 'd:' .. ino end
local function K_xattrs(ino) return P .. 'x:' .. ino end
local K_ctr = P .. 'ctr'
local K_reclaim = P .. 'reclaim'
local K_inval = P .. 'inval'
local K_orphans = P .. 'orphans'
local K_mounts = P .. 'mounts'
local function K_mstat(session) return P .. 'mstat:' .. session end

local SESSION = ARGV[1]
local NOW = ARGV[2]
local NOW_MS = math.floor(tonumber(string.sub(NOW, 1, -7)) or 0)
local ROOT = '1'

-- An inode's attributes are the fields t m u g n s r v k at mt ct of its hash, and every reply
-- packs them in that order, joined by ',' ('' for an absent field). The hash also keeps them so
-- packed, in two derived fields for listings (listPage-1.lua), pa (t..k, ~25 bytes for usual
-- values) and pt (at mt ct: three int64 times, at most 62 bytes), so that a hash keeps its
-- compact listpack encoding (values up to 64 bytes; an inode with huge ids or sizes only loses
-- it): reading two fields per listed name instead of twelve took ~40 % off Redis's time per
-- name. Every script repacks the inodes it changed when it publishes, so a script that changes
-- an inode's fields must set its ct and name it in inv_inode or attrs_changed: a listing trusts
-- the copy only while pt ends with ct. Everything but a listing reads the fields themselves.
--
-- v is the inode's version: publish bumps it for every inode named in inv_inode, and sends the
-- new packed attributes of every inode it repacks with the invalidation ('a' items,
-- invalidation.ts; a new inode's too, for the entry that names it), so that a mount holding
-- the inode replaces what it holds instead of reading it again. A mount may hear of a change
-- after it read a newer state (replies and messages travel on two connections): the version
-- tells which is newer. A directory's version also orders what a mount knows of its names.

-- attr_fields returns an inode's attribute fields in that order ('' for an absent one, and
-- ct_absent true then), or nil when the inode is gone.
local function attr_fields(ino)
  local f = redis.call('HMGET', K_inode(ino), 't', 'm', 'u', 'g', 'n', 's', 'r', 'v', 'k', 'at', 'mt', 'ct')
  if not f[1] then return nil end
  local ct_absent = not f[12]
  for j = 2, #f do if not f[j] then f[j] = '' end end
  return f, ct_absent
end

-- packed_attrs returns an inode's attributes as one string, or '' when the inode is gone: one
-- string per inode, because turning many reply strings into JS strings costs the daemon more
-- than this costs Redis.
local function packed_attrs(ino)
  local f = attr_fields(ino)
  return f and table.concat(f, ',') or ''
end

-- repack_attrs refreshes an inode's packed copy (bumping its version first if asked) and
-- returns its packed attributes, '' when it is gone.
local function repack_attrs(ino, bump)
  local f, ct_absent = attr_fields(ino)
  if not f then return '' end
  if bump then f[8] = tostring(redis.call('HINCRBY', K_inode(ino), 'v', 1)) end
  -- damaged (no ct): a listing reads the fields then
  if not ct_absent then
    redis.call('HSET', K_inode(ino), 'pa', table.concat(f, ',', 1, 9), 'pt', table.concat(f, ',', 10, 12))
  end
  return table.concat(f, ',')
end

local changed = {}
local repack = {}
local same_content = {}
local entries_changed = {}
-- Inode numbers come as strings (ARGV, entry values) or numbers: one key per inode.
-- attrs_changed: ino's attributes are new or changed and only this script knows it yet.
local function attrs_changed(ino)
  ino = tostring(ino)
  if not repack[ino] then repack[ino] = false end
end
local function inv_inode(ino)
  ino = tostring(ino)
  changed[#changed + 1] = 'i' .. ino
  repack[ino] = true
  same_content[ino] = nil
end
-- inv_attrs: only ino's attributes changed, not its content ('k' item: a mount keeps the
-- content it holds). Unless the script also names ino in inv_inode after this.
local function inv_attrs(ino)
  inv_inode(ino)
  same_content[tostring(ino)] = true
end
-- inv_entry: the entry changed. Every script that changes an entry also touches its directory
-- (touch_dir), so the directory's new version comes in the same message: a mount orders what
-- it knows of the directory's names against the change by it ('n' items, invalidation.ts).
local function inv_entry(parent, name)
  changed[#changed + 1] = 'e' .. parent .. '/' .. name
  entries_changed[#entries_changed + 1] = { parent, name }
end
-- A small file's whole new content also travels with its invalidation ('d' items, after all
-- others: only in the message, binary, length-prefixed), so that a mount holding the file (its
-- older content, or its attributes) keeps it instead of reading it again. Up to PUSH_MAX
-- bytes, a page: a mount following a directory where 4 KiB files are made reads none of them
-- from Redis, and each message grows by at most what Redis copies to every subscriber for
-- the script that sent it anyway; larger files are read on demand.
local PUSH_MAX = 4096
local contents = {}
local function push_content(ino, data)
  if #data <= PUSH_MAX then contents[#contents + 1] = 'd' .. ino .. ',' .. #data .. ',' .. data end
end
-- On Redis Cluster a PUBLISH goes to every node over the cluster bus, small files' contents
-- included; an SPUBLISH (Redis 7) stays within the shard that owns the channel's slot, where
-- every mount listens (store/subscription.ts). A volume made on such a cluster has format 2
-- (meta-store.ts, FORMAT_SHARDED), set once, so that every mount of it agrees on which kind
-- it hears (builds that know only classic pub/sub refuse format 2).
local function publish_command()
  if redis.call('HGET', KEYS[1], 'format') == '2' then return 'SPUBLISH' end
  return 'PUBLISH'
end
local function publish()
  for ino, named in pairs(repack) do
    changed[#changed + 1] = 'a' .. ino .. ',' .. repack_attrs(ino, named)
    if same_content[ino] then changed[#changed + 1] = 'k' .. ino end
  end
  for _, e in ipairs(entries_changed) do
    local v = redis.call('HGET', K_entries(e[1]), e[2]) or ''
    changed[#changed + 1] = 'n' .. v .. ',' .. e[1] .. '/' .. e[2]
  end
  if #changed > 0 then
    local msg = SESSION .. '\0' .. table.concat(changed, '\0')
    if #contents > 0 then msg = msg .. '\0' .. table.concat(contents, '\0') end
    redis.call(publish_command(), K_inval, msg)
  end
  return changed
end

local function fail(code) return redis.error_reply(code) end

-- loaded_file returns { inode hash as a flat list, inline data or false, chunk map as a flat list }.
local function loaded_file(ino)
  return { redis.call('HGETALL', K_inode(ino)), redis.call('GET', K_inline(ino)), redis.call('HGETALL', K_chunks(ino)) }
end

-- dir_type returns nil when ino is a directory, else the errno to fail with.
local function check_dir(ino)
  local t = redis.call('HGET', K_inode(ino), 't')
  if not t then return 'ENOENT' end
  if t ~= 'd' then return 'ENOTDIR' end
  return nil
end

local function touch_dir(ino, nlink_delta)
  redis.call('HSET', K_inode(ino), 'mt', NOW, 'ct', NOW)
  if nlink_delta ~= 0 then redis.call('HINCRBY', K_inode(ino), 'n', nlink_delta) end
  inv_inode(ino)
end

local function reclaim_chunks(ino)
  local ids = redis.call('HVALS', K_chunks(ino))
  for _, id in ipairs(ids) do redis.call('ZADD', K_reclaim, NOW_MS, id) end
end

local function delete_inode(ino)
  local size = redis.call('HGET', K_inode(ino), 's')
  if size and size ~= '0' then redis.call('HINCRBY', K_ctr, 'bytes', '-' .. size) end
  redis.call('HINCRBY', K_ctr, 'inodes', -1)
  reclaim_chunks(ino)
  redis.call('DEL', K_inode(ino), K_entries(ino), K_chunks(ino), K_inline(ino), K_xattrs(ino))
end

-- KEEP is an inode the calling mount holds open: losing its last name orphans it (nlink 0,
-- content kept, listed in the orphans hash) until that mount's last close purges it.
local KEEP = '0'

-- purge_orphan forgets an orphan and deletes its inode, unless it got a name again (link).
local function purge_orphan(ino)
  redis.call('HDEL', K_orphans, ino)
  local n = redis.call('HGET', K_inode(ino), 'n')
  if n and tonumber(n) <= 0 then
    delete_inode(ino)
    inv_inode(ino)
  end
end

-- drop_link removes one name of ino; the inode goes when its last name does.
local function drop_link(ino, t)
  if t == 'd' then
    delete_inode(ino)
  else
    local n = redis.call('HINCRBY', K_inode(ino), 'n', -1)
    if n <= 0 and ino == KEEP then
      redis.call('HSET', K_inode(ino), 'n', 0, 'ct', NOW)
      redis.call('HSET', K_orphans, ino, SESSION)
    elseif n <= 0 then
      delete_inode(ino)
    else
      redis.call('HSET', K_inode(ino), 'ct', NOW)
    end
  end
  inv_inode(ino)
end
