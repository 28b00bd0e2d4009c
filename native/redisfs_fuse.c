// redisfs_fuse: libfuse3's low-level API driven from Node's own event loop.
//
// The /dev/fuse descriptor (non-blocking) is polled by libuv on the default loop. When it is
// readable, the main thread reads and processes requests (fuse_session_receive_buf +
// fuse_session_process_buf); every op callback calls one JS function, `dispatch(op, id, ...)`,
// directly: no thread hop, no semaphore. `id` names the fuse_req_t in a slot table (index +
// generation), so JS answers later, in any order, with the reply* functions exported here, and
// a second answer to the same request is refused instead of touching freed memory.
//
// Kernel cache notifications (notifyInvalInode/InvalEntry/Delete) are written by one helper
// thread: the kernel may block such a write on a lock held by a request that only the main
// thread can answer (e.g. a lookup in the same directory), so the main thread never writes them.
//
// FUSE_INTERRUPT: every dispatched request registers an interrupt callback whose data is the
// request's id (a number, not a pointer: nothing to free or to outlive). The callback only notes
// the id; after fuse_session_process_buf returns, each noted id whose request JS still holds goes
// to JS as EV_INTERRUPT, and JS may answer it (EINTR) then. Never answering from inside the
// callback matters: libfuse may call it from fuse_req_interrupt_func with the request's lock
// held, and a reply there would free the request under that lock. Requests are created,
// interrupted and answered on the loop thread only (the notifier touches none), so an interrupt
// never races a reply: an answered request has left libfuse's list, and no interrupt finds it.
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <node_api.h>
#include <uv.h>

// Op codes passed to dispatch; mirrored by src/fuse/lowlevel/addon.ts (Op).
enum {
  OP_LOOKUP = 1, OP_GETATTR, OP_SETATTR, OP_READLINK, OP_MKNOD, OP_MKDIR, OP_UNLINK, OP_RMDIR,
  OP_SYMLINK, OP_RENAME, OP_LINK, OP_OPEN, OP_READ, OP_WRITE, OP_FLUSH, OP_RELEASE, OP_FSYNC,
  OP_OPENDIR, OP_READDIR, OP_RELEASEDIR, OP_STATFS, OP_SETXATTR, OP_GETXATTR, OP_LISTXATTR,
  OP_REMOVEXATTR, OP_ACCESS, OP_CREATE, OP_FORGET,
  EV_INIT = 100, EV_DESTROY = 101, EV_EXITED = 102, EV_INTERRUPT = 103,
};

// Attribute layout of the Float64Array JS passes with entry/attr replies (16 numbers per
// inode): mirrored by src/fuse/lowlevel/addon.ts (ATTR_*).
enum {
  A_INO, A_MODE, A_NLINK, A_UID, A_GID, A_RDEV, A_SIZE, A_BLOCKS, A_ATIME_S, A_ATIME_NS,
  A_MTIME_S, A_MTIME_NS, A_CTIME_S, A_CTIME_NS, A_BLKSIZE, A_GEN, A_COUNT,
};

#define MAX_REQS_PER_WAKE 64
// Interrupt callbacks run only inside fuse_session_process_buf (for the one INTERRUPT it reads,
// or for the one request it registers the callback for), and the ids they note are delivered
// after each call: one pending id at a time in practice.
#define MAX_PENDING_INTERRUPTS 8
// How long an unmount keeps answering requests (EIO) for the helper thread to finish its write.
#define CLOSE_DRAIN_MS 5000

typedef struct notice {
  struct notice *next;
  int kind; // 1 inval inode, 2 inval entry, 3 delete
  int retry; // kind 1: JS says the kernel was just given the inode (see write_notice)
  uint64_t a, b;
  int64_t off, len;
  size_t namelen;
  char name[];
} notice_t;

typedef struct session {
  napi_env env;
  struct fuse_session *se;
  uv_poll_t *poll;
  int fd;
  napi_ref dispatch;
  napi_ref resource;
  napi_async_context actx;
  struct fuse_buf buf;
  unsigned max_write;
  int writeback;
  int mounted;   // fuse_session_mount succeeded and not unmounted yet
  int ended;     // the kernel ended the session (unmounted from outside) or we unmounted
  int no_js;     // environment is going away: never call JS again
  int closing;   // unmounting: requests are answered EIO here, JS gets no more
  double interrupted[MAX_PENDING_INTERRUPTS]; // ids of interrupted requests, for JS
  int ninterrupted;
  // notifier thread
  pthread_t thread;
  int thread_started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  notice_t *head, *tail;
  int stop;
  int thread_done; // the notifier left its loop: it writes nothing more
} session_t;

// ---- request slots --------------------------------------------------------------------

typedef struct {
  fuse_req_t req;
  session_t *s;
  uint32_t gen;
  uint32_t next_free;
} slot_t;

#define SLOT_BITS 24
#define SLOT_NONE UINT32_MAX
static slot_t *slots;
static uint32_t nslots, free_head = SLOT_NONE;

static double slot_put(session_t *s, fuse_req_t req) {
  if (free_head == SLOT_NONE) {
    uint32_t n = nslots ? nslots * 2 : 256;
    if (n > (1u << SLOT_BITS)) n = 1u << SLOT_BITS;
    if (n == nslots) return -1;
    slot_t *grown = realloc(slots, n * sizeof(slot_t));
    if (!grown) return -1;
    slots = grown;
    for (uint32_t i = n; i-- > nslots;) {
      slots[i].req = NULL;
      slots[i].s = NULL;
      slots[i].gen = 0;
      slots[i].next_free = free_head;
      free_head = i;
    }
    nslots = n;
  }
  uint32_t i = free_head;
  slot_t *sl = &slots[i];
  free_head = sl->next_free;
  sl->req = req;
  sl->s = s;
  sl->gen = (sl->gen + 1) & 0x0fffffff;
  return (double)sl->gen * (double)(1u << SLOT_BITS) + (double)i;
}

static void slot_free(uint32_t i) {
  slots[i].req = NULL;
  slots[i].s = NULL;
  slots[i].next_free = free_head;
  free_head = i;
}

// Takes the request an id names out of the table; NULL if it was answered already.
static fuse_req_t slot_take(double id) {
  if (!(id >= 0)) return NULL;
  uint64_t v = (uint64_t)id;
  uint32_t i = (uint32_t)(v & ((1u << SLOT_BITS) - 1));
  uint32_t gen = (uint32_t)(v >> SLOT_BITS);
  if (i >= nslots || slots[i].req == NULL || slots[i].gen != gen) return NULL;
  fuse_req_t req = slots[i].req;
  slot_free(i);
  return req;
}

// True if the id still names a request JS has not answered.
static int slot_live(double id) {
  uint64_t v = (uint64_t)id;
  uint32_t i = (uint32_t)(v & ((1u << SLOT_BITS) - 1));
  return i < nslots && slots[i].req != NULL && slots[i].gen == (uint32_t)(v >> SLOT_BITS);
}

// ---- helpers ---------------------------------------------------------------------------

#define NAPI_OK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static napi_value str(napi_env env, const char *s) {
  napi_value r;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value big_ns(napi_env env, struct timespec ts) {
  napi_value r;
  napi_create_bigint_int64(env, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, &r);
  return r;
}

static napi_value boolean(napi_env env, int v) {
  napi_value r;
  napi_get_boolean(env, v, &r);
  return r;
}

static double arg_num(napi_env env, napi_value v) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    int64_t i = 0;
    bool lossless;
    if (napi_get_value_bigint_int64(env, v, &i, &lossless) == napi_ok) d = (double)i;
  }
  return d;
}

static double *arg_f64(napi_env env, napi_value v, size_t need) {
  napi_typedarray_type t;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, NULL, NULL) != napi_ok) return NULL;
  if (t != napi_float64_array || len < need) return NULL;
  return data;
}

static void fill_stat(struct stat *st, const double *a) {
  memset(st, 0, sizeof *st);
  st->st_ino = (ino_t)a[A_INO];
  st->st_mode = (mode_t)a[A_MODE];
  st->st_nlink = (nlink_t)a[A_NLINK];
  st->st_uid = (uid_t)a[A_UID];
  st->st_gid = (gid_t)a[A_GID];
  st->st_rdev = (dev_t)a[A_RDEV];
  st->st_size = (off_t)a[A_SIZE];
  st->st_blocks = (blkcnt_t)a[A_BLOCKS];
  st->st_blksize = (blksize_t)a[A_BLKSIZE];
  st->st_atim.tv_sec = (time_t)a[A_ATIME_S];
  st->st_atim.tv_nsec = (long)a[A_ATIME_NS];
  st->st_mtim.tv_sec = (time_t)a[A_MTIME_S];
  st->st_mtim.tv_nsec = (long)a[A_MTIME_NS];
  st->st_ctim.tv_sec = (time_t)a[A_CTIME_S];
  st->st_ctim.tv_nsec = (long)a[A_CTIME_NS];
}

static void fill_entry(struct fuse_entry_param *e, const double *a, double entry_timeout, double attr_timeout) {
  memset(e, 0, sizeof *e);
  // A negative generation marks a listing entry without attributes: the kernel gets its name
  // and type but no inode to cache (nodeid 0), so it will look it up.
  e->ino = a[A_GEN] < 0 ? 0 : (fuse_ino_t)a[A_INO];
  e->generation = a[A_GEN] < 0 ? 0 : (uint64_t)a[A_GEN];
  fill_stat(&e->attr, a);
  e->attr_timeout = attr_timeout;
  e->entry_timeout = entry_timeout;
}

// ---- calling JS --------------------------------------------------------------------------

// Calls dispatch(op, id, ...args). On a JS exception, answers the request with EIO (if JS did
// not answer it) and hands the exception to Node as uncaught: it is a bug in the adapter.
static void call_js(session_t *s, int op, double id, size_t argc, napi_value *args) {
  napi_env env = s->env;
  napi_value fn, global, result;
  napi_value argv[12];
  if (s->no_js || argc > 10) return;
  if (napi_get_reference_value(env, s->dispatch, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &global);
  argv[0] = num(env, op);
  argv[1] = num(env, id);
  for (size_t i = 0; i < argc; i++) argv[i + 2] = args[i];
  napi_status st = napi_call_function(env, global, fn, argc + 2, argv, &result);
  if (st != napi_ok) {
    napi_value exc;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
      if (id >= 0) {
        fuse_req_t req = slot_take(id);
        if (req) fuse_reply_err(req, EIO);
      }
      napi_fatal_exception(env, exc);
    }
  }
}

// The kernel interrupted a request (a signal reached the process waiting on it). Runs inside
// fuse_session_process_buf, maybe with the request's lock held: only note the id (see the top).
static void on_interrupt(fuse_req_t req, void *data) {
  session_t *s = fuse_req_userdata(req);
  if (s->ninterrupted < MAX_PENDING_INTERRUPTS) s->interrupted[s->ninterrupted++] = (double)(uintptr_t)data;
  // else dropped: the request simply runs to completion, as it would without interrupts
}

// Tells JS about the interrupted requests it still holds. Called after each
// fuse_session_process_buf, outside every libfuse lock, so JS may answer them at once.
static void deliver_interrupts(session_t *s) {
  int n = s->ninterrupted;
  s->ninterrupted = 0;
  for (int i = 0; i < n; i++) {
    double id = s->interrupted[i];
    if (s->no_js || s->closing || !slot_live(id)) continue; // answered meanwhile (e.g. synchronously)
    napi_handle_scope hs;
    napi_open_handle_scope(s->env, &hs);
    call_js(s, EV_INTERRUPT, id, 0, NULL);
    napi_close_handle_scope(s->env, hs);
  }
}

// Registers the request (slot, interrupt callback) and calls JS, inside a handle scope of its
// own. The interrupt callback is set before JS runs: JS may answer, and so free, the request.
#define DISPATCH(req, op, ...)                                                     \
  do {                                                                             \
    session_t *s_ = fuse_req_userdata(req);                                        \
    napi_env env = s_->env;                                                        \
    napi_handle_scope hs_;                                                         \
    if (s_->no_js || s_->closing) { fuse_reply_err(req, EIO); break; }             \
    double id_ = slot_put(s_, req);                                                \
    if (id_ < 0) { fuse_reply_err(req, ENOMEM); break; }                           \
    fuse_req_interrupt_func(req, on_interrupt, (void *)(uintptr_t)id_);            \
    napi_open_handle_scope(env, &hs_);                                             \
    napi_value a_[] = {__VA_ARGS__};                                               \
    call_js(s_, op, id_, sizeof a_ / sizeof a_[0], a_);                            \
    napi_close_handle_scope(env, hs_);                                             \
  } while (0)

static napi_value fh_of(napi_env env, struct fuse_file_info *fi) {
  return num(env, fi ? (double)fi->fh : -1);
}

// ---- low-level ops -------------------------------------------------------------------------

static void ll_init(void *userdata, struct fuse_conn_info *conn) {
  session_t *s = userdata;
  unsigned mw = s->max_write; // libfuse clamps it to its buffer (1 MiB of pages + header)
  conn->max_write = mw;
  conn->max_read = 0;
  if (conn->max_readahead < mw) conn->max_readahead = mw;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  conn->time_gran = 1;
  // No splice (we keep one plain buffer), no O_TRUNC in open (the kernel sends a setattr
  // first), the kernel clears suid/sgid itself on write/chown.
  conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
                  FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_HANDLE_KILLPRIV);
  if (s->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE)) conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  else conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  // Every listing page with attributes, not just the first: "auto" falls back to plain
  // readdir after one page, and then `ls -l` or a stat of each name costs a LOOKUP per name
  // (measured: 1,925 lookups for a 2,000-file directory), where a page with attributes
  // costs one pipelined Redis round trip for all its entries.
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  if (s->no_js) return;
  napi_env env = s->env;
  napi_handle_scope hs;
  napi_open_handle_scope(env, &hs);
  napi_value a[] = {num(env, conn->max_write), num(env, conn->want), num(env, conn->proto_minor)};
  call_js(s, EV_INIT, -1, 3, a);
  napi_close_handle_scope(env, hs);
}

static void ll_destroy(void *userdata) {
  session_t *s = userdata;
  if (s->no_js) return;
  napi_handle_scope hs;
  napi_open_handle_scope(s->env, &hs);
  call_js(s, EV_DESTROY, -1, 0, NULL);
  napi_close_handle_scope(s->env, hs);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  DISPATCH(req, OP_LOOKUP, num(env, parent), str(env, name));
}

// Forgets need no answer: tell JS (which keeps lookup counts) and free the request at once.
static void forget_js(session_t *s, fuse_ino_t ino, uint64_t nlookup) {
  if (s->no_js || s->closing) return;
  napi_handle_scope hs;
  napi_open_handle_scope(s->env, &hs);
  napi_value a[] = {num(s->env, (double)ino), num(s->env, (double)nlookup)};
  call_js(s, OP_FORGET, -1, 2, a);
  napi_close_handle_scope(s->env, hs);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  session_t *s = fuse_req_userdata(req);
  fuse_reply_none(req);
  forget_js(s, ino, nlookup);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  session_t *s = fuse_req_userdata(req);
  for (size_t i = 0; i < count; i++) forget_js(s, forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  DISPATCH(req, OP_GETATTR, num(env, ino), fh_of(env, fi));
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  DISPATCH(req, OP_SETATTR, num(env, ino), num(env, to_set), num(env, attr->st_mode), num(env, attr->st_uid),
           num(env, attr->st_gid), num(env, (double)attr->st_size), big_ns(env, attr->st_atim),
           big_ns(env, attr->st_mtim), fh_of(env, fi));
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino) {
  DISPATCH(req, OP_READLINK, num(env, ino));
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
  const struct fuse_ctx *c = fuse_req_ctx(req);
  DISPATCH(req, OP_MKNOD, num(env, parent), str(env, name), num(env, mode), num(env, (double)rdev), num(env, c->uid),
           num(env, c->gid));
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  const struct fuse_ctx *c = fuse_req_ctx(req);
  DISPATCH(req, OP_MKDIR, num(env, parent), str(env, name), num(env, mode), num(env, c->uid), num(env, c->gid));
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  DISPATCH(req, OP_UNLINK, num(env, parent), str(env, name));
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  DISPATCH(req, OP_RMDIR, num(env, parent), str(env, name));
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
  const struct fuse_ctx *c = fuse_req_ctx(req);
  DISPATCH(req, OP_SYMLINK, num(env, parent), str(env, name), str(env, link), num(env, c->uid), num(env, c->gid));
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                      unsigned int flags) {
  DISPATCH(req, OP_RENAME, num(env, parent), str(env, name), num(env, newparent), str(env, newname), num(env, flags));
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  DISPATCH(req, OP_LINK, num(env, ino), num(env, newparent), str(env, newname));
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  DISPATCH(req, OP_OPEN, num(env, ino), num(env, fi->flags));
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  DISPATCH(req, OP_READ, num(env, ino), fh_of(env, fi), num(env, (double)size), num(env, (double)off));
}

// Blocks that large writes are copied into, kept for reuse. A new 1 MiB buffer per WRITE is
// a new mapping in the daemon (its malloc settings send large blocks to mmap, so that freed
// chunks go back to the system: daemon/malloc-env.ts), and faulting in and zeroing its pages
// was a third of a writing daemon's CPU under perf (clear_page_erms). A JS buffer over a
// block gives it back when the garbage collector frees the buffer; up to WBLOCK_KEEP idle
// blocks are kept, the rest freed. Blocks are module-wide: a finalizer may run after its
// session is gone. The lock is for safety only: Node runs these finalizers on the JS thread.
#define WBLOCK_BYTES ((size_t)1 << 20)
// Smaller writes are plain copies: below the daemon's mmap threshold (128 KiB), malloc serves
// them from its heap without fresh pages.
#define WBLOCK_MIN ((size_t)128 << 10)
#define WBLOCK_KEEP 32

// Under AddressSanitizer an idle block is poisoned past its link, so that a use of a block
// given back (a JS buffer still reading it) is reported (test/addon-leaks.fuse.test.ts).
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define WBLOCK_IDLE(b) ASAN_POISON_MEMORY_REGION((char *)(b) + sizeof(wblock_t), WBLOCK_BYTES - sizeof(wblock_t))
#define WBLOCK_USED(b) ASAN_UNPOISON_MEMORY_REGION((b), WBLOCK_BYTES)
#else
#define WBLOCK_IDLE(b) ((void)(b))
#define WBLOCK_USED(b) ((void)(b))
#endif

typedef struct wblock { struct wblock *next; } wblock_t;
static pthread_mutex_t wblock_lock = PTHREAD_MUTEX_INITIALIZER;
static wblock_t *wblock_idle;
static int wblock_idle_count;

static void *wblock_get(void) {
  pthread_mutex_lock(&wblock_lock);
  wblock_t *b = wblock_idle;
  if (b) {
    wblock_idle = b->next;
    wblock_idle_count--;
  }
  pthread_mutex_unlock(&wblock_lock);
  if (!b) return malloc(WBLOCK_BYTES);
  WBLOCK_USED(b);
  return b;
}

static void wblock_put(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  pthread_mutex_lock(&wblock_lock);
  if (wblock_idle_count < WBLOCK_KEEP) {
    wblock_t *b = data;
    b->next = wblock_idle;
    WBLOCK_IDLE(b);
    wblock_idle = b;
    wblock_idle_count++;
    data = NULL;
  }
  pthread_mutex_unlock(&wblock_lock);
  free(data);
}

// A buffer of `size` bytes over a reused block holding a copy of data, or NULL (then the
// caller copies the usual way).
static napi_value block_copy(napi_env env, const char *data, size_t size) {
  if (size < WBLOCK_MIN || size > WBLOCK_BYTES) return NULL;
  void *blk = wblock_get();
  if (!blk) return NULL;
  memcpy(blk, data, size);
  napi_value b = NULL;
  if (napi_create_external_buffer(env, size, blk, wblock_put, NULL, &b) != napi_ok || b == NULL) {
    // Node may own the block already (a failure after its finalizer was attached, which will
    // run): never reuse it here. Left to that finalizer, or leaked on a path that only
    // termination or exhaustion takes.
    return NULL;
  }
  return b;
}

// Write and setxattr data: the request buffer is reused by the next request, and JS answers
// later, so JS gets a copy it owns. Opens a handle scope for it (the caller closes it), or
// answers the request itself (EIO while closing, ENOMEM) and returns NULL.
static napi_value data_copy(fuse_req_t req, session_t *s, const char *data, size_t size, napi_handle_scope *hs) {
  napi_value b = NULL;
  void *copy;
  if (s->no_js || s->closing) {
    fuse_reply_err(req, EIO);
    return NULL;
  }
  napi_open_handle_scope(s->env, hs);
  b = block_copy(s->env, data, size);
  if (b == NULL) napi_create_buffer_copy(s->env, size, data, &copy, &b);
  if (b == NULL) {
    napi_close_handle_scope(s->env, *hs);
    fuse_reply_err(req, ENOMEM);
  }
  return b;
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  session_t *s = fuse_req_userdata(req);
  napi_handle_scope hs;
  napi_value b = data_copy(req, s, data, size, &hs);
  if (b == NULL) return;
  DISPATCH(req, OP_WRITE, num(env, ino), fh_of(env, fi), b, num(env, (double)off));
  napi_close_handle_scope(s->env, hs);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  DISPATCH(req, OP_FLUSH, num(env, ino), fh_of(env, fi));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  DISPATCH(req, OP_RELEASE, num(env, ino), fh_of(env, fi));
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  DISPATCH(req, OP_FSYNC, num(env, ino), fh_of(env, fi), num(env, datasync));
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  DISPATCH(req, OP_OPENDIR, num(env, ino), num(env, fi->flags));
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  DISPATCH(req, OP_READDIR, num(env, ino), fh_of(env, fi), num(env, (double)size), num(env, (double)off),
           boolean(env, 0));
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  DISPATCH(req, OP_READDIR, num(env, ino), fh_of(env, fi), num(env, (double)size), num(env, (double)off),
           boolean(env, 1));
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  DISPATCH(req, OP_RELEASEDIR, num(env, ino), fh_of(env, fi));
}

static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  fuse_reply_err(req, 0); // directory changes are committed by the script that makes them
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  DISPATCH(req, OP_STATFS, num(env, ino));
}

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) {
  session_t *s = fuse_req_userdata(req);
  napi_handle_scope hs;
  napi_value b = data_copy(req, s, value, size, &hs);
  if (b == NULL) return;
  DISPATCH(req, OP_SETXATTR, num(env, ino), str(env, name), b, num(env, flags));
  napi_close_handle_scope(s->env, hs);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  DISPATCH(req, OP_GETXATTR, num(env, ino), str(env, name), num(env, (double)size));
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  DISPATCH(req, OP_LISTXATTR, num(env, ino), num(env, (double)size));
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
  DISPATCH(req, OP_REMOVEXATTR, num(env, ino), str(env, name));
}

static void ll_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  DISPATCH(req, OP_ACCESS, num(env, ino), num(env, mask));
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
  const struct fuse_ctx *c = fuse_req_ctx(req);
  DISPATCH(req, OP_CREATE, num(env, parent), str(env, name), num(env, mode), num(env, fi->flags), num(env, c->uid),
           num(env, c->gid));
}

static const struct fuse_lowlevel_ops ll_ops = {
  .init = ll_init,
  .destroy = ll_destroy,
  .lookup = ll_lookup,
  .forget = ll_forget,
  .forget_multi = ll_forget_multi,
  .getattr = ll_getattr,
  .setattr = ll_setattr,
  .readlink = ll_readlink,
  .mknod = ll_mknod,
  .mkdir = ll_mkdir,
  .unlink = ll_unlink,
  .rmdir = ll_rmdir,
  .symlink = ll_symlink,
  .rename = ll_rename,
  .link = ll_link,
  .open = ll_open,
  .read = ll_read,
  .write = ll_write,
  .flush = ll_flush,
  .release = ll_release,
  .fsync = ll_fsync,
  .opendir = ll_opendir,
  .readdir = ll_readdir,
  .readdirplus = ll_readdirplus,
  .releasedir = ll_releasedir,
  .fsyncdir = ll_fsyncdir,
  .statfs = ll_statfs,
  .setxattr = ll_setxattr,
  .getxattr = ll_getxattr,
  .listxattr = ll_listxattr,
  .removexattr = ll_removexattr,
  .access = ll_access,
  .create = ll_create,
};

// ---- notifier thread -------------------------------------------------------------------------

// A reply that hands the kernel a new inode (lookup, create, readdirplus) completes before the
// kernel has made the inode: the process that asked still has to run. An invalidation written
// in between finds no inode (ENOENT) and is lost, and the kernel then keeps the reply's older
// attributes for their whole timeout. So when JS says the kernel was just given the inode (an
// entry reply a moment ago), ENOENT is retried for up to ~5 ms (the notices after it wait).
#define RETRY_MAX_US 5000

static void write_notice(session_t *s, notice_t *n) {
  if (n->kind == 2) fuse_lowlevel_notify_inval_entry(s->se, n->a, n->name, n->namelen);
  else if (n->kind == 3) fuse_lowlevel_notify_delete(s->se, n->a, n->b, n->name, n->namelen);
  if (n->kind != 1) return;
  for (int waited = 0, pause = 100;; waited += pause, pause = pause < 2000 ? pause * 2 : 2000) {
    int r = fuse_lowlevel_notify_inval_inode(s->se, n->a, n->off, n->len);
    if (r != -ENOENT || !n->retry || waited >= RETRY_MAX_US) return;
    usleep(pause);
  }
}

static void *notifier_main(void *arg) {
  session_t *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->head && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
    notice_t *n = s->head;
    if (!n) break; // stop, queue drained
    s->head = n->next;
    if (!s->head) s->tail = NULL;
    int stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    // Errors (ENOENT: the kernel does not have it cached; ENOTCONN after unmount) are fine.
    if (!stop) write_notice(s, n);
    free(n);
    pthread_mutex_lock(&s->mu);
  }
  s->thread_done = 1;
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static int notifier_done(session_t *s) {
  if (!s->thread_started) return 1;
  pthread_mutex_lock(&s->mu);
  int done = s->thread_done;
  pthread_mutex_unlock(&s->mu);
  return done;
}

static void notifier_stop(session_t *s) {
  if (!s->thread_started) return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->thread_started = 0;
}

// ---- session lifecycle -----------------------------------------------------------------------

static void on_poll_closed(uv_handle_t *h) { free(h); }

static void stop_polling(session_t *s) {
  if (!s->poll) return;
  uv_poll_stop(s->poll);
  uv_close((uv_handle_t *)s->poll, on_poll_closed);
  s->poll = NULL;
}

// Answers every request of the session JS still holds with `err`, or frees it unanswered
// (err < 0: the kernel is gone, nobody waits), and forgets them.
static void answer_held(session_t *s, int err) {
  for (uint32_t i = 0; i < nslots; i++) {
    if (slots[i].req && slots[i].s == s) {
      if (err < 0) fuse_reply_none(slots[i].req);
      else fuse_reply_err(slots[i].req, err);
      slot_free(i);
    }
  }
}

// Lets the notifier thread finish before the unmount. Its write may be held by the kernel on
// a directory lock that a request holds: one JS holds, one still queued in /dev/fuse, or one
// of a process that waits for that lock before it sends its own. Neither closing the device
// (the blocked write holds it open) nor a lazy unmount ends the connection then, so the join
// and the process would wait forever. So, while the connection is up: answer what JS holds
// with EIO, and keep answering whatever arrives with EIO (DISPATCH does, once closing) until
// the thread is done, or CLOSE_DRAIN_MS passed. Returns whether it is done.
static int drain_for_notifier(session_t *s) {
  answer_held(s, EIO);
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  uint64_t deadline = uv_hrtime() + (uint64_t)CLOSE_DRAIN_MS * 1000000u;
  while (!notifier_done(s) && uv_hrtime() < deadline) {
    int r = fuse_session_receive_buf(s->se, &s->buf);
    if (r == -EAGAIN) {
      struct pollfd p = {.fd = s->fd, .events = POLLIN};
      poll(&p, 1, 10);
      continue;
    }
    if (r == -EINTR) continue;
    if (r <= 0 || fuse_session_exited(s->se)) break; // the kernel ended it: nothing blocks
    fuse_session_process_buf(s->se, &s->buf);
  }
  s->ninterrupted = 0;
  return notifier_done(s);
}

// Unmounts and frees everything but the struct and JS references. Safe to call twice.
static void session_close(session_t *s) {
  s->closing = 1;
  stop_polling(s);
  int drained = 1;
  if (s->se && s->mounted && !s->ended) drained = drain_for_notifier(s);
  // Join before the device's descriptor is closed: a write the thread is about to start would
  // otherwise go to whatever file takes that number next. (Drain gave up: join after the
  // unmount, as the thread may never return.)
  if (drained) notifier_stop(s);
  if (s->se && s->mounted) {
    fuse_session_unmount(s->se); // closes the fd first: the kernel aborts pending requests
    s->mounted = 0;
  }
  notifier_stop(s);
  if (s->se) {
    answer_held(s, -1);
    fuse_session_destroy(s->se);
    s->se = NULL;
  }
  free(s->buf.mem);
  s->buf.mem = NULL;
  for (notice_t *n = s->head; n;) {
    notice_t *next = n->next;
    free(n);
    n = next;
  }
  s->head = s->tail = NULL;
  s->ended = 1;
}

static void session_ended(session_t *s) {
  if (s->ended) return;
  s->ended = 1;
  stop_polling(s);
  if (s->no_js) return;
  napi_handle_scope hs;
  napi_open_handle_scope(s->env, &hs);
  call_js(s, EV_EXITED, -1, 0, NULL);
  napi_close_handle_scope(s->env, hs);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  session_t *s = h->data;
  napi_env env = s->env;
  napi_handle_scope hs;
  napi_callback_scope cs;
  napi_value resource;
  if (status < 0) {
    session_ended(s);
    return;
  }
  napi_open_handle_scope(env, &hs);
  napi_get_reference_value(env, s->resource, &resource);
  // A callback scope: promise jobs and nextTicks JS queued run when it closes, as after any
  // libuv callback that enters JS.
  napi_open_callback_scope(env, resource, s->actx, &cs);
  for (int i = 0; i < MAX_REQS_PER_WAKE && s->se && !s->ended; i++) {
    int r = fuse_session_receive_buf(s->se, &s->buf);
    if (r == -EAGAIN) break;
    if (r == -EINTR) continue;
    if (r <= 0 || fuse_session_exited(s->se)) {
      session_ended(s);
      break;
    }
    fuse_session_process_buf(s->se, &s->buf);
    deliver_interrupts(s);
  }
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
}

// The last chance to unmount: at exit (process.exit, end of the event loop) and on env cleanup.
// No JS, no libuv: just leave no dead mount behind.
#define MAX_SESSIONS 16
static session_t *live[MAX_SESSIONS];

static void unmount_at_exit(void) {
  for (int i = 0; i < MAX_SESSIONS; i++) {
    session_t *s = live[i];
    if (s && s->se && s->mounted) {
      s->no_js = 1;
      fuse_session_unmount(s->se);
      s->mounted = 0;
    }
  }
}

static void env_cleanup(void *arg) {
  session_t *s = arg;
  s->no_js = 1;
  session_close(s);
}

static void forget_live(session_t *s) {
  for (int i = 0; i < MAX_SESSIONS; i++)
    if (live[i] == s) live[i] = NULL;
}

static void session_finalize(napi_env env, void *data, void *hint) {
  session_t *s = data;
  s->no_js = 1;
  session_close(s);
  napi_remove_env_cleanup_hook(env, env_cleanup, s);
  forget_live(s);
  if (s->dispatch) napi_delete_reference(env, s->dispatch);
  if (s->resource) napi_delete_reference(env, s->resource);
  if (s->actx) napi_async_destroy(env, s->actx);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

static session_t *get_session(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

// mount(mountpoint, options: string (-o list), dispatch, maxWrite, writeback, debug) → session
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_error(env, "mount(mountpoint, options, dispatch, maxWrite, writeback, debug)");
  char mnt[4096], opts[4096];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], mnt, sizeof mnt, &len) != napi_ok || len >= sizeof mnt - 1)
    return throw_error(env, "mountpoint must be a string");
  if (napi_get_value_string_utf8(env, argv[1], opts, sizeof opts, &len) != napi_ok || len >= sizeof opts - 1)
    return throw_error(env, "options must be a string");
  bool debug = false, writeback = false;
  napi_get_value_bool(env, argv[4], &writeback);
  napi_get_value_bool(env, argv[5], &debug);

  int slot = -1;
  for (int i = 0; i < MAX_SESSIONS; i++)
    if (!live[i]) { slot = i; break; }
  if (slot < 0) return throw_error(env, "too many FUSE sessions in one process");

  session_t *s = calloc(1, sizeof *s);
  if (!s) return throw_error(env, "out of memory");
  s->env = env;
  s->fd = -1;
  s->max_write = (unsigned)arg_num(env, argv[3]);
  if (s->max_write < 4096) s->max_write = 4096;
  if (s->max_write > 1u << 20) s->max_write = 1u << 20;
  s->writeback = writeback;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);

  char *args_v[5] = {"redisfs", "-o", opts, NULL, NULL};
  int args_c = 3;
  if (debug) args_v[args_c++] = "-d";
  struct fuse_args args = FUSE_ARGS_INIT(args_c, args_v);
  s->se = fuse_session_new(&args, &ll_ops, sizeof ll_ops, s);
  fuse_opt_free_args(&args);
  if (!s->se) {
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return throw_error(env, "fuse_session_new failed (bad mount options?)");
  }
  if (fuse_session_mount(s->se, mnt) != 0) {
    fuse_session_destroy(s->se);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return throw_error(env, "fuse_session_mount failed (see the libfuse message above)");
  }
  s->mounted = 1;
  s->fd = fuse_session_fd(s->se);
  int fl = fcntl(s->fd, F_GETFL);
  fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);

  napi_value resource, name, external;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &s->resource);
  napi_create_string_utf8(env, "redisfs:fuse", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->actx);
  napi_create_reference(env, argv[2], 1, &s->dispatch);

  if (pthread_create(&s->thread, NULL, notifier_main, s) == 0) s->thread_started = 1;

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  s->poll = malloc(sizeof *s->poll);
  if (!s->poll || uv_poll_init(loop, s->poll, s->fd) != 0 || uv_poll_start(s->poll, UV_READABLE, on_readable) != 0) {
    free(s->poll);
    s->poll = NULL;
    session_close(s);
    session_finalize(env, s, NULL);
    return throw_error(env, "cannot poll the FUSE device");
  }
  s->poll->data = s;

  static int atexit_done = 0;
  if (!atexit_done) {
    atexit(unmount_at_exit);
    atexit_done = 1;
  }
  live[slot] = s;
  napi_add_env_cleanup_hook(env, env_cleanup, s);
  NAPI_OK(napi_create_external(env, s, session_finalize, NULL, &external));
  return external;
}

// unmount(session): stops serving, unmounts, answers nothing more. Idempotent.
static napi_value js_unmount(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  session_t *s = argc ? get_session(env, argv[0]) : NULL;
  if (!s) return throw_error(env, "unmount(session)");
  session_close(s);
  forget_live(s);
  return NULL;
}

// ---- replies -----------------------------------------------------------------------------

static fuse_req_t take_arg_req(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1) return NULL;
  return slot_take(arg_num(env, argv[0]));
}

#define REPLY_PROLOGUE(n)                                            \
  size_t argc = n;                                                   \
  napi_value argv[n];                                                \
  fuse_req_t req = take_arg_req(env, info, &argc, argv);             \
  if (!req) return boolean(env, 0);

// replyErr(id, errno): 0 is success for ops that return nothing.
static napi_value js_reply_err(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(2);
  fuse_reply_err(req, (int)arg_num(env, argv[1]));
  return boolean(env, 1);
}

// replyEntry(id, attr: Float64Array, entryTimeout, attrTimeout)
static napi_value js_reply_entry(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(4);
  const double *a = arg_f64(env, argv[1], A_COUNT);
  if (!a) { fuse_reply_err(req, EIO); return throw_error(env, "replyEntry: attr must be a Float64Array(16)"); }
  struct fuse_entry_param e;
  fill_entry(&e, a, arg_num(env, argv[2]), arg_num(env, argv[3]));
  fuse_reply_entry(req, &e);
  return boolean(env, 1);
}

// replyAttr(id, attr, attrTimeout)
static napi_value js_reply_attr(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  const double *a = arg_f64(env, argv[1], A_COUNT);
  if (!a) { fuse_reply_err(req, EIO); return throw_error(env, "replyAttr: attr must be a Float64Array(16)"); }
  struct stat st;
  fill_stat(&st, a);
  fuse_reply_attr(req, &st, arg_num(env, argv[2]));
  return boolean(env, 1);
}

static void fill_open(struct fuse_file_info *fi, double fh, int flags) {
  memset(fi, 0, sizeof *fi);
  fi->fh = (uint64_t)fh;
  fi->keep_cache = (flags & 1) != 0;
  fi->direct_io = (flags & 2) != 0;
  fi->cache_readdir = (flags & 4) != 0;
  fi->nonseekable = (flags & 8) != 0;
}

// replyOpen(id, fh, flags: 1 keep_cache, 2 direct_io, 4 cache_readdir, 8 nonseekable)
static napi_value js_reply_open(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(3);
  struct fuse_file_info fi;
  fill_open(&fi, arg_num(env, argv[1]), (int)arg_num(env, argv[2]));
  fuse_reply_open(req, &fi);
  return boolean(env, 1);
}

// replyCreate(id, attr, entryTimeout, attrTimeout, fh, flags)
static napi_value js_reply_create(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(6);
  const double *a = arg_f64(env, argv[1], A_COUNT);
  if (!a) { fuse_reply_err(req, EIO); return throw_error(env, "replyCreate: attr must be a Float64Array(16)"); }
  struct fuse_entry_param e;
  struct fuse_file_info fi;
  fill_entry(&e, a, arg_num(env, argv[2]), arg_num(env, argv[3]));
  fill_open(&fi, arg_num(env, argv[4]), (int)arg_num(env, argv[5]));
  fuse_reply_create(req, &e, &fi);
  return boolean(env, 1);
}

// replyBuf(id, data: Uint8Array)
static napi_value js_reply_buf(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(2);
  napi_typedarray_type t;
  size_t len = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, argv[1], &t, &len, &data, NULL, NULL) != napi_ok || t != napi_uint8_array) {
    fuse_reply_err(req, EIO);
    return throw_error(env, "replyBuf: data must be a Uint8Array");
  }
  fuse_reply_buf(req, data, len);
  return boolean(env, 1);
}

// replyWrite(id, count)
static napi_value js_reply_write(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(2);
  fuse_reply_write(req, (size_t)arg_num(env, argv[1]));
  return boolean(env, 1);
}

// replyStatfs(id, Float64Array [bsize, frsize, blocks, bfree, bavail, files, ffree, favail, namemax])
static napi_value js_reply_statfs(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(2);
  const double *a = arg_f64(env, argv[1], 9);
  if (!a) { fuse_reply_err(req, EIO); return throw_error(env, "replyStatfs: Float64Array(9)"); }
  struct statvfs st;
  memset(&st, 0, sizeof st);
  st.f_bsize = (unsigned long)a[0];
  st.f_frsize = (unsigned long)a[1];
  st.f_blocks = (fsblkcnt_t)a[2];
  st.f_bfree = (fsblkcnt_t)a[3];
  st.f_bavail = (fsblkcnt_t)a[4];
  st.f_files = (fsfilcnt_t)a[5];
  st.f_ffree = (fsfilcnt_t)a[6];
  st.f_favail = (fsfilcnt_t)a[7];
  st.f_namemax = (unsigned long)a[8];
  fuse_reply_statfs(req, &st);
  return boolean(env, 1);
}

// replyReadlink(id, target)
static napi_value js_reply_readlink(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(2);
  size_t len = 0;
  char small[4097];
  if (napi_get_value_string_utf8(env, argv[1], small, sizeof small, &len) != napi_ok) {
    fuse_reply_err(req, EIO);
    return throw_error(env, "replyReadlink: target must be a string");
  }
  fuse_reply_readlink(req, small);
  return boolean(env, 1);
}

// replyXattr(id, size): the size a getxattr/listxattr probe (size 0) needs.
static napi_value js_reply_xattr(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(2);
  fuse_reply_xattr(req, (size_t)arg_num(env, argv[1]));
  return boolean(env, 1);
}

// replyNone(id): for requests that take no answer.
static napi_value js_reply_none(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(1);
  fuse_reply_none(req);
  return boolean(env, 1);
}

// replyDir(id, size, plus, firstOffset, names: string[], attrs: Float64Array (16 per name),
//          entryTimeout, attrTimeout) → how many entries fit. Entry i gets offset
// firstOffset + i + 1 (where the next readdir resumes). With plus, only ino and mode are read
// for "." and "..", which the kernel does not look up.
static napi_value js_reply_dir(napi_env env, napi_callback_info info) {
  REPLY_PROLOGUE(8);
  size_t size = (size_t)arg_num(env, argv[1]);
  bool plus = false;
  napi_get_value_bool(env, argv[2], &plus);
  double first = arg_num(env, argv[3]);
  uint32_t n = 0;
  napi_get_array_length(env, argv[4], &n);
  const double *attrs = arg_f64(env, argv[5], (size_t)n * A_COUNT);
  if (!attrs && n > 0) { fuse_reply_err(req, EIO); return throw_error(env, "replyDir: attrs too short"); }
  double et = arg_num(env, argv[6]), at = arg_num(env, argv[7]);
  char *buf = malloc(size ? size : 1);
  if (!buf) { fuse_reply_err(req, ENOMEM); return num(env, 0); }
  size_t pos = 0;
  uint32_t i;
  char name[1024];
  for (i = 0; i < n; i++) {
    napi_value v;
    size_t nl;
    if (napi_get_element(env, argv[4], i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, name, sizeof name, &nl) != napi_ok) break;
    const double *a = attrs + (size_t)i * A_COUNT;
    off_t next = (off_t)first + i + 1;
    size_t need;
    if (plus) {
      struct fuse_entry_param e;
      fill_entry(&e, a, et, at);
      need = fuse_add_direntry_plus(req, buf + pos, size - pos, name, &e, next);
    } else {
      struct stat st;
      memset(&st, 0, sizeof st);
      st.st_ino = (ino_t)a[A_INO];
      st.st_mode = (mode_t)a[A_MODE];
      need = fuse_add_direntry(req, buf + pos, size - pos, name, &st, next);
    }
    if (need > size - pos) break;
    pos += need;
  }
  fuse_reply_buf(req, buf, pos);
  free(buf);
  return num(env, i);
}

// ---- notifications --------------------------------------------------------------------------

static napi_value enqueue(napi_env env, napi_callback_info info, int kind) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  session_t *s = argc ? get_session(env, argv[0]) : NULL;
  if (!s) return throw_error(env, "notify*(session, ...)");
  if (s->ended || !s->se || !s->thread_started) return boolean(env, 0);
  char name[1024];
  size_t nl = 0;
  napi_value name_v = kind == 2 ? argv[2] : kind == 3 ? argv[3] : NULL;
  if (name_v && napi_get_value_string_utf8(env, name_v, name, sizeof name, &nl) != napi_ok)
    return throw_error(env, "notify: name must be a string");
  notice_t *n = malloc(sizeof *n + nl + 1);
  if (!n) return boolean(env, 0);
  n->next = NULL;
  n->kind = kind;
  n->a = (uint64_t)arg_num(env, argv[1]);
  n->b = kind == 3 ? (uint64_t)arg_num(env, argv[2]) : 0;
  n->off = kind == 1 ? (int64_t)arg_num(env, argv[2]) : 0;
  n->len = kind == 1 ? (int64_t)arg_num(env, argv[3]) : 0;
  bool retry = false;
  if (kind == 1 && argc > 4) napi_get_value_bool(env, argv[4], &retry);
  n->retry = retry;
  n->namelen = nl;
  memcpy(n->name, name, nl);
  n->name[nl] = 0;
  pthread_mutex_lock(&s->mu);
  // The helper waits only on an empty queue (checked under this lock): a notice queued behind
  // others needs no wake-up, and a message's burst of notices costs one (a futex wake, and on
  // a VM an inter-processor interrupt) instead of one each.
  int was_empty = s->head == NULL;
  if (s->tail) s->tail->next = n;
  else s->head = n;
  s->tail = n;
  if (was_empty) pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return boolean(env, 1);
}

// notifyInvalInode(session, ino, off, len, retry): off < 0 drops attributes only; len 0 = to the
// end; retry: the kernel was just given the inode (write_notice).
static napi_value js_notify_inval_inode(napi_env env, napi_callback_info info) { return enqueue(env, info, 1); }
// notifyInvalEntry(session, parent, name)
static napi_value js_notify_inval_entry(napi_env env, napi_callback_info info) { return enqueue(env, info, 2); }
// notifyDelete(session, parent, child, name)
static napi_value js_notify_delete(napi_env env, napi_callback_info info) { return enqueue(env, info, 3); }

// pendingRequests() → how many requests JS holds unanswered (for tests and stats).
static napi_value js_pending(napi_env env, napi_callback_info info) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < nslots; i++)
    if (slots[i].req) n++;
  return num(env, n);
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
    {"unmount", NULL, js_unmount, NULL, NULL, NULL, napi_default, NULL},
    {"replyErr", NULL, js_reply_err, NULL, NULL, NULL, napi_default, NULL},
    {"replyEntry", NULL, js_reply_entry, NULL, NULL, NULL, napi_default, NULL},
    {"replyAttr", NULL, js_reply_attr, NULL, NULL, NULL, napi_default, NULL},
    {"replyOpen", NULL, js_reply_open, NULL, NULL, NULL, napi_default, NULL},
    {"replyCreate", NULL, js_reply_create, NULL, NULL, NULL, napi_default, NULL},
    {"replyBuf", NULL, js_reply_buf, NULL, NULL, NULL, napi_default, NULL},
    {"replyWrite", NULL, js_reply_write, NULL, NULL, NULL, napi_default, NULL},
    {"replyStatfs", NULL, js_reply_statfs, NULL, NULL, NULL, napi_default, NULL},
    {"replyReadlink", NULL, js_reply_readlink, NULL, NULL, NULL, napi_default, NULL},
    {"replyXattr", NULL, js_reply_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"replyNone", NULL, js_reply_none, NULL, NULL, NULL, napi_default, NULL},
    {"replyDir", NULL, js_reply_dir, NULL, NULL, NULL, napi_default, NULL},
    {"notifyInvalInode", NULL, js_notify_inval_inode, NULL, NULL, NULL, napi_default, NULL},
    {"notifyInvalEntry", NULL, js_notify_inval_entry, NULL, NULL, NULL, napi_default, NULL},
    {"notifyDelete", NULL, js_notify_delete, NULL, NULL, NULL, napi_default, NULL},
    {"pendingRequests", NULL, js_pending, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
