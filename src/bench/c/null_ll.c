// The C reference of the benchmark's "FUSE bindings" rows: about the least a libfuse3 low-level
// filesystem can do per request, in one thread (fuse_session_loop, not the multithreaded
// loop), so that our JS binding is compared with plain libfuse3 doing the same work.
//
// Serves a root directory holding one read-only file, "file", of FILE_SIZE bytes (zeros): enough
// for lookup, getattr, open, read, flush, release and a listing. Kernel entry and attribute
// timeouts come from the command line (the bench passes the ones redisfs uses on the lowlevel
// binding), and INIT is negotiated as our addon does (native/redisfs_fuse.c, ll_init).
//
// Built by the bench: gcc -O2 null_ll.c $(pkg-config --cflags --libs fuse3)
// usage: null_ll <mountpoint> <mount options> <entry timeout s> <attr timeout s>
// Prints "null-c: mounted <mountpoint>" once mounted; SIGTERM or SIGINT unmounts.
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#define FILE_INO 2
#define FILE_NAME "file"
#define FILE_SIZE 100

static double entry_timeout, attr_timeout;
static struct timespec started;
static const char zeros[FILE_SIZE];

static int fill_stat(fuse_ino_t ino, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = ino;
  st->st_uid = getuid();
  st->st_gid = getgid();
  st->st_blksize = 4096;
  st->st_atim = st->st_mtim = st->st_ctim = started;
  if (ino == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  } else if (ino == FILE_INO) {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = FILE_SIZE;
    st->st_blocks = 1;
  } else {
    return -1;
  }
  return 0;
}

// As our addon: no splice, no atomic O_TRUNC, no killpriv, parallel directory ops.
static void null_init(void *userdata, struct fuse_conn_info *conn) {
  (void)userdata;
  conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
                  FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_HANDLE_KILLPRIV | FUSE_CAP_WRITEBACK_CACHE);
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  conn->time_gran = 1;
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  if (parent != FUSE_ROOT_ID || strcmp(name, FILE_NAME) != 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  e.ino = FILE_INO;
  e.entry_timeout = entry_timeout;
  e.attr_timeout = attr_timeout;
  fill_stat(FILE_INO, &e.attr);
  fuse_reply_entry(req, &e);
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  struct stat st;
  if (fill_stat(ino, &st) != 0) fuse_reply_err(req, ENOENT);
  else fuse_reply_attr(req, &st, attr_timeout);
}

static void null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  if (ino != FILE_INO) fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
  else if ((fi->flags & O_ACCMODE) != O_RDONLY) fuse_reply_err(req, EACCES);
  else fuse_reply_open(req, fi); // fh 0, no keep_cache: the page cache is dropped at open
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  size_t n = off >= FILE_SIZE ? 0 : (size_t)(FILE_SIZE - off);
  fuse_reply_buf(req, zeros, n < size ? n : size);
}

static void null_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  fuse_reply_err(req, 0);
}

static void null_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  if (ino != FUSE_ROOT_ID) fuse_reply_err(req, ENOTDIR);
  else fuse_reply_open(req, fi);
}

// The whole listing is three entries; entry i ends at offset i + 1.
static void null_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  static const char *names[] = {".", "..", FILE_NAME};
  static const fuse_ino_t inos[] = {FUSE_ROOT_ID, FUSE_ROOT_ID, FILE_INO};
  char buf[512];
  size_t pos = 0;
  if (ino != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  if (size > sizeof buf) size = sizeof buf;
  for (off_t i = off; i < 3; i++) {
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_ino = inos[i];
    st.st_mode = inos[i] == FILE_INO ? S_IFREG : S_IFDIR;
    size_t need = fuse_add_direntry(req, buf + pos, size - pos, names[i], &st, i + 1);
    if (need > size - pos) break;
    pos += need;
  }
  fuse_reply_buf(req, buf, pos);
}

static const struct fuse_lowlevel_ops ops = {
  .init = null_init,
  .lookup = null_lookup,
  .getattr = null_getattr,
  .open = null_open,
  .read = null_read,
  .flush = null_ok,
  .release = null_ok,
  .opendir = null_opendir,
  .readdir = null_readdir,
  .releasedir = null_ok,
};

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s <mountpoint> <mount options> <entry timeout s> <attr timeout s>\n", argv[0]);
    return 2;
  }
  entry_timeout = atof(argv[3]);
  attr_timeout = atof(argv[4]);
  clock_gettime(CLOCK_REALTIME, &started);
  char *av[] = {argv[0], "-o", argv[2], NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, av);
  struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
  fuse_opt_free_args(&args);
  if (!se) return 1;
  if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, argv[1]) != 0) {
    fuse_session_destroy(se);
    return 1;
  }
  printf("null-c: mounted %s\n", argv[1]);
  fflush(stdout);
  int r = fuse_session_loop(se);
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  return r < 0 ? 1 : 0;
}
