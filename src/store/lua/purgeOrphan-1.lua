-- Deletes orphans (inodes with no names left, kept while open or referenced by the kernel)
-- once the mount that kept them no longer needs them: one or many at a time (a mount purges
-- what its kernel let go of in batches). Does nothing for one that got a name again (link).
-- Input:  KEYS[1] vol; ARGV session, now, ino...
-- Output: changed items
for i = 3, #ARGV do purge_orphan(ARGV[i]) end
return publish()
