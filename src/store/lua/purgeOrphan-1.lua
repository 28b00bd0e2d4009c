-- Deletes an orphan (an inode with no names left, kept while open) once its last handle on the
-- mount that kept it is closed. Does nothing if it got a name again meanwhile (link).
-- Input:  KEYS[1] vol; ARGV session, now, ino
-- Output: changed items
purge_orphan(ARGV[3])
return publish()
