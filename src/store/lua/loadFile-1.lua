#!lua flags=no-writes
-- Reads a file's attributes with its inline data and chunk map in one atomic step (a MULTI
-- would do, but Redis 7 refuses any MULTI when it is out of memory; a no-writes script runs).
-- Input:  KEYS[1] vol; ARGV session(unused), now(unused), ino
-- Output: loaded_file (prelude.lua)
return loaded_file(ARGV[3])
