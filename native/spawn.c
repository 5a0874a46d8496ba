/*
 * pidpilot_spawn: how pidpilot starts a child process.
 *
 * Why not node:child_process? libuv forks, so every spawn copies the page tables of the
 * whole heap: measured at ~1.9 ms per spawn at 55 MB RSS and growing with the heap, where
 * a chain of jobs needs well under 1.5 ms per hop. It also cannot give a child a
 * parent-death signal, and it watches exits through its own SIGCHLD bookkeeping.
 *
 * So this addon:
 *   - starts the child with clone(CLONE_VM | CLONE_VFORK): no page tables are copied, the
 *     cost does not grow with the heap (this is what glibc's posix_spawn does);
 *   - prepares everything (argv, envp, the PATH candidates) in the parent, so the child
 *     only makes async-signal-safe system calls, on its own small stack;
 *   - puts the child in its own session and process group (pgid == pid), resets every
 *     signal disposition that is not the default (Node ignores SIGPIPE; a child must not
 *     inherit that) and the mask, and asks the kernel to SIGKILL it if pidpilot dies
 *     (PR_SET_PDEATHSIG);
 *   - reports an exec failure to the parent synchronously (through the memory the vfork
 *     child shares with its suspended parent), so spawn() throws and leaves no zombie;
 *   - watches the exit with a pidfd in libuv's loop (or, without pidfd_open, SIGCHLD plus
 *     waitpid(pid) for our own pids only: never waitpid(-1), which would steal libuv's);
 *   - when the leader has exited but is not yet reaped (so its pid, which is the group id,
 *     cannot be reused), SIGKILLs whatever is left of its group, then reaps it (when the
 *     reaper's waitpid(-1) reaps it first, the kill comes just after: reaper.c says why
 *     that is safe);
 *   - registers every child it watches with the orphan reaper (reaper.c): when the reaper
 *     finds it exited first, it hands it over here (reaped, with its status, or still a
 *     zombie, to be reaped here), so its status is never lost.
 *
 * JS interface (see src/process/native.ts):
 *   spawn(candidates, argv, env, cwd|null, stdoutMode, stderrMode, onExit(code, signal), ids?)
 *     env: an array of NAME=value, or (envBlock: true) one string of them separated by NUL.
 *     ids: [uid, gid, ...supplementary gids] to run as (setgroups/setgid/setuid in the child).
 *     -> { pid, stdout: fd|-1, stderr: fd|-1 }
 *     modes: 0 inherit, 1 pipe, 2 ignore. onExit gets (code, 0) or (-1, signal), or
 *     (-1, 0) if the status was lost (someone else reaped the child).
 *     Throws an Error with { stage, errno, index } when the program could not be started.
 *   setExitWatch('pidfd' | 'sigchld'): force the SIGCHLD fallback (tests).
 *
 * Only the thread that first uses it may call it (one libuv loop; PR_SET_PDEATHSIG fires
 * when the *thread* that spawned the child ends).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "pidpilot.h"

/* On 32-bit x86 and ARM the plain set*id syscalls take 16-bit ids; the *32 ones are what
 * glibc uses there. 64-bit targets only have the plain ones. */
#ifdef SYS_setgroups32
#define PP_SYS_SETGROUPS SYS_setgroups32
#define PP_SYS_SETGID SYS_setgid32
#define PP_SYS_SETUID SYS_setuid32
#else
#define PP_SYS_SETGROUPS SYS_setgroups
#define PP_SYS_SETGID SYS_setgid
#define PP_SYS_SETUID SYS_setuid
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum { MODE_INHERIT = 0, MODE_PIPE = 1, MODE_IGNORE = 2 };

/* Where a spawn failed; the names are part of the JS interface. */
enum { ST_NONE, ST_SETSID, ST_PDEATHSIG, ST_CHDIR, ST_STDIO, ST_EXEC, ST_USER };
static const char *const stage_names[] = {"none", "setsid", "pdeathsig", "chdir", "stdio", "exec", "user"};

/* Supplementary groups a job's user may have (NGROUPS_MAX is larger, real users have a few). */
#define MAX_GROUPS 256

/* The child runs only thin syscall wrappers; 64 KiB is far more than it needs. */
#define CHILD_STACK_SIZE (64 * 1024)

typedef struct {
  char **cand;      /* paths to execve, in order (one, or the PATH search list) */
  uint32_t ncand;
  int search;       /* argv[0] had no slash: the candidates come from PATH */
  char **argv;
  char **envp;
  const char *cwd;  /* NULL: stay in ours */
  int set_ids;      /* run as uid/gid with `groups` (the job's `user`) */
  uid_t uid;
  gid_t gid;
  size_t ngroups;
  gid_t groups[MAX_GROUPS];
  int fd_in;        /* /dev/null */
  int fd_out;       /* -1: inherit our fd 1 */
  int fd_err;       /* -1: inherit our fd 2 */
  pid_t parent;
  /* Bit s-1 set: signal s is ignored or handled here and must be reset to SIG_DFL.
   * reset_all: that set is unknown (no /proc): reset every signal. */
  uint64_t nondefault;
  int reset_all;
  struct sigaction dfl;
  sigset_t empty;
  /* Written by the child before it _exits; read by the parent once clone returns. */
  volatile int err;
  volatile int stage;
  volatile int index;
} child_args;

static __attribute__((noreturn)) void child_fail(child_args *a, int stage, int err, int index) {
  a->stage = stage;
  a->err = err;
  a->index = index;
  _exit(127);
}

/* dup2 clears close-on-exec on the copy; an fd already in place needs it cleared by hand. */
static int place_fd(int fd, int target) {
  if (fd == target) return fcntl(fd, F_SETFD, 0);
  return dup2(fd, target);
}

/* Runs in the child, on its own stack, sharing the (suspended) parent's memory:
 * only async-signal-safe calls, no allocation, never return into the parent's frames. */
static int child_main(void *p) {
  child_args *a = p;

  /* Every signal is still blocked (the parent blocked them before clone), so none of
   * Node's handlers can run here on shared memory. Reset every disposition that is not
   * SIG_DFL (a handler must be gone before the signals are unblocked; an ignored signal
   * would stay ignored through execve), then unblock. One rt_sigaction a signal costs
   * about a microsecond here, and the parent waits for it (vfork): a node process has a
   * dozen or so to reset, not 64. sigaction fails for glibc's internal signals: harmless. */
  for (int s = 1; s < NSIG; s++)
    if (a->reset_all || (s <= 64 && (a->nondefault >> (s - 1) & 1))) (void)sigaction(s, &a->dfl, NULL);
  (void)sigprocmask(SIG_SETMASK, &a->empty, NULL);

  /* Own session and process group, so the whole group can be signalled as one. */
  if (setsid() < 0) child_fail(a, ST_SETSID, errno, -1);

  /* The job's user, before the parent-death signal (a credential change clears it). Raw
   * syscalls: glibc's set*id would signal every thread of the parent whose memory we share. */
  if (a->set_ids) {
    if (syscall(PP_SYS_SETGROUPS, a->ngroups, a->groups) < 0) child_fail(a, ST_USER, errno, -1);
    if (syscall(PP_SYS_SETGID, a->gid) < 0) child_fail(a, ST_USER, errno, -1);
    if (syscall(PP_SYS_SETUID, a->uid) < 0) child_fail(a, ST_USER, errno, -1);
  }

  /* If pidpilot dies (even by SIGKILL) the kernel kills its direct children. If it died
   * already, the parent-death signal will never come: give up instead. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) child_fail(a, ST_PDEATHSIG, errno, -1);
  if (getppid() != a->parent) _exit(127);

  if (a->cwd != NULL && chdir(a->cwd) < 0) child_fail(a, ST_CHDIR, errno, -1);

  if (place_fd(a->fd_in, 0) < 0) child_fail(a, ST_STDIO, errno, -1);
  if (a->fd_out >= 0) {
    if (place_fd(a->fd_out, 1) < 0) child_fail(a, ST_STDIO, errno, -1);
  } else {
    (void)fcntl(1, F_SETFD, 0); /* inherit: ours may be close-on-exec; a closed fd 1 stays closed */
  }
  if (a->fd_err >= 0) {
    if (place_fd(a->fd_err, 2) < 0) child_fail(a, ST_STDIO, errno, -1);
  } else {
    (void)fcntl(2, F_SETFD, 0);
  }

#ifdef SYS_close_range
  /* Nothing but stdio reaches the program, even fds some library opened without
   * O_CLOEXEC. Marking (not closing) keeps this cheap; ENOSYS on old kernels is fine. */
  (void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
#endif

  /* execvp's search rules: errors that mean "not here" move on to the next PATH entry,
   * EACCES is remembered and reported only if nothing else could run, anything else
   * (ENOEXEC, ELOOP, E2BIG, ...) stops the search. */
  int eacces = -1;
  for (uint32_t i = 0; i < a->ncand; i++) {
    execve(a->cand[i], a->argv, a->envp);
    int e = errno;
    int not_here = e == ENOENT || e == ENOTDIR || e == ESTALE || e == ENODEV || e == ETIMEDOUT;
    if (!a->search || !(not_here || e == EACCES)) child_fail(a, ST_EXEC, e, (int)i);
    if (e == EACCES && eacces < 0) eacces = (int)i;
  }
  if (eacces >= 0) child_fail(a, ST_EXEC, EACCES, eacces);
  child_fail(a, ST_EXEC, ENOENT, -1);
}

/* ---------------------------------------------------------------- exit watching */

typedef struct child_s {
  napi_env env;
  napi_ref on_exit;
  napi_async_context actx;
  pid_t pid;
  int code, sig; /* the outcome, once reaped */
  int pipes[2];   /* the read ends of its stdout and stderr pipes, or -1 (for pipes.c) */
  struct child_s *next; /* SIGCHLD mode list */
  reaper_owned_t owned; /* tells the reaper (reaper.c) this pid is ours */
} child_t;

/* A pidfd and its poll handle. The fd is closed only in the close callback: closing it
 * earlier would let a new pidfd reuse the number, and libuv's close of this handle would
 * then remove the *new* fd from epoll. */
typedef struct {
  uv_poll_t handle;
  int pidfd;
  child_t *child; /* freed with the watch; NULL if the child went to the SIGCHLD list */
} pidfd_watch_t;

static uv_loop_t *g_loop;       /* the loop of the one thread allowed to use us */
static int g_force_sigchld;     /* tests: pretend pidfd_open is missing */
static int g_sig_ready;         /* g_sigchld and g_sweep are initialised */
static uv_signal_t g_sigchld;
static uv_timer_t g_sweep;
static child_t *g_waiting;      /* children watched through SIGCHLD */

/* c's outcome from its wait status. */
static void set_outcome(child_t *c, int status) {
  if (WIFEXITED(status)) c->code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) c->sig = WTERMSIG(status);
}

/* Reaps c if it has exited. Returns 0 while it still runs. */
static int try_reap(child_t *c) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r;
  /* Peek first (WNOWAIT): while the leader is an unreaped zombie its pid cannot be reused,
   * so killing the group by that id is safe. */
  do r = waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT);
  while (r < 0 && errno == EINTR);
  if (r == 0 && si.si_pid == 0) return 0;
  reaper_disown(&c->owned);
  c->code = -1;
  c->sig = 0;
  if (r < 0) return 1; /* ECHILD: reaped behind our back, the status is lost */
  (void)kill(-c->pid, SIGKILL); /* leftovers of the group must not outlive the leader */
  int status;
  pid_t p;
  do p = waitpid(c->pid, &status, WNOHANG);
  while (p < 0 && errno == EINTR);
  if (p == c->pid) set_outcome(c, status);
  return 1;
}

/* The reaper reaped c with `status` (its blind waitpid(-1) came first): the same as
 * try_reap's, the group's leftovers killed just after the reap instead of just before
 * (why that is safe: reaper.c). */
static void take_status(child_t *c, int status) {
  reaper_disown(&c->owned);
  (void)kill(-c->pid, SIGKILL);
  c->code = -1;
  c->sig = 0;
  set_outcome(c, status);
}

/* Calls onExit(code, signal) on the JS thread and releases the JS side of c. First its
 * output pipes' pending watches are answered (pipes.c): closed empty, usually. */
static void deliver(child_t *c) {
  pipes_child_exited(c->pipes, 2);
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[2];
  if (napi_get_reference_value(env, c->on_exit, &fn) == napi_ok && fn != NULL &&
      napi_get_global(env, &recv) == napi_ok && /* make_callback needs an object */
      napi_create_int32(env, c->code, &argv[0]) == napi_ok &&
      napi_create_int32(env, c->sig, &argv[1]) == napi_ok) {
    /* make_callback, not call_function: runs the microtask queue afterwards, as any
     * libuv-driven callback in Node does. */
    if (napi_make_callback(env, c->actx, recv, fn, 2, argv, NULL) == napi_pending_exception) {
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, c->on_exit);
  napi_async_destroy(env, c->actx);
}

static void on_watch_closed(uv_handle_t *h) {
  pidfd_watch_t *w = h->data;
  close(w->pidfd);
  free(w->child);
  free(w);
}

static void on_pidfd(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  pidfd_watch_t *w = h->data;
  if (!try_reap(w->child)) return;
  /* Close callbacks run later in this loop iteration: w->child outlives deliver(). */
  uv_close((uv_handle_t *)h, on_watch_closed);
  deliver(w->child);
}

/* The reaper found w's child exited before its pidfd was polled: report it now. */
static void finish_pidfd(void *arg, const int *status) {
  pidfd_watch_t *w = arg;
  if (status == NULL) {
    on_pidfd(&w->handle, 0, 0);
    return;
  }
  take_status(w->child, *status);
  uv_close((uv_handle_t *)&w->handle, on_watch_closed);
  deliver(w->child);
}

static void sweep(void) {
  child_t *done = NULL, **tail = &done;
  for (child_t **pp = &g_waiting; *pp != NULL;) {
    child_t *c = *pp;
    if (try_reap(c)) {
      *pp = c->next;
      c->next = NULL;
      *tail = c;
      tail = &c->next;
    } else {
      pp = &c->next;
    }
  }
  /* Nothing left to wait for: stop, so that the signal watcher does not keep Node alive. */
  if (g_waiting == NULL) uv_signal_stop(&g_sigchld);
  /* The list is detached before any JS runs: a callback may spawn again. */
  while (done != NULL) {
    child_t *c = done;
    done = c->next;
    deliver(c);
    free(c);
  }
}

static void on_sigchld(uv_signal_t *h, int signum) {
  (void)h;
  (void)signum;
  sweep();
}

static void on_sweep(uv_timer_t *t) {
  (void)t;
  sweep();
}

static void finish_sigchld(void *arg, const int *status) {
  if (status == NULL) {
    sweep();
    return;
  }
  child_t *c = arg;
  for (child_t **pp = &g_waiting; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  }
  take_status(c, *status);
  if (g_waiting == NULL) uv_signal_stop(&g_sigchld);
  deliver(c);
  free(c);
}

/* Fallback without pidfds: SIGCHLD (libuv multiplexes it, Node's own watcher keeps
 * working) then waitpid on each of our pids. A sweep on the next tick catches a child
 * whose SIGCHLD came before the watcher was started. */
static int watch_by_sigchld(child_t *c) {
  int r;
  if (!g_sig_ready) {
    if ((r = uv_signal_init(g_loop, &g_sigchld)) != 0) return r;
    if ((r = uv_timer_init(g_loop, &g_sweep)) != 0) return r;
    g_sig_ready = 1;
  }
  if ((r = uv_signal_start(&g_sigchld, on_sigchld, SIGCHLD)) != 0) return r;
  if ((r = uv_timer_start(&g_sweep, on_sweep, 0, 0)) != 0) return r;
  c->next = g_waiting;
  g_waiting = c;
  reaper_own(&c->owned, c->pid, finish_sigchld, c);
  return 0;
}

/* Watches c's exit; from then on c belongs to the watcher. */
static int watch_exit(child_t *c) {
  int pidfd = -1;
#ifdef SYS_pidfd_open
  /* The child cannot be reaped before we do, so the pid still names it. */
  if (!g_force_sigchld) pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
#endif
  if (pidfd >= 0) {
    pidfd_watch_t *w = malloc(sizeof *w);
    if (w == NULL || uv_poll_init(g_loop, &w->handle, pidfd) != 0) {
      free(w);
      close(pidfd);
    } else {
      w->handle.data = w;
      w->pidfd = pidfd;
      w->child = c;
      if (uv_poll_start(&w->handle, UV_READABLE, on_pidfd) == 0) {
        reaper_own(&c->owned, c->pid, finish_pidfd, w);
        return 0;
      }
      w->child = NULL;
      uv_close((uv_handle_t *)&w->handle, on_watch_closed);
    }
  }
  return watch_by_sigchld(c);
}

/* ---------------------------------------------------------------- JS glue */

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) goto napi_failed;                          \
  } while (0)

/*
 * One JS string of entries separated by NUL (an entry never holds one) as to_cstrv's block:
 * two N-API calls for the whole environment instead of four per variable (a spawn passes
 * dozens; element by element they were most of the addon's time in a chain of quick jobs).
 */
static char **block_to_cstrv(napi_env env, napi_value str) {
  size_t len, n = 0;
  if (napi_get_value_string_utf8(env, str, NULL, 0, &len) != napi_ok) return NULL;
  char *tmp = malloc(len + 1);
  if (tmp == NULL) return NULL;
  if (napi_get_value_string_utf8(env, str, tmp, len + 1, &len) != napi_ok) {
    free(tmp);
    return NULL;
  }
  if (len > 0) {
    n = 1;
    for (size_t i = 0; i < len; i++)
      if (tmp[i] == '\0') n++;
  }
  char **out = malloc((n + 1) * sizeof(char *) + len + 1);
  if (out == NULL) {
    free(tmp);
    return NULL;
  }
  char *bytes = (char *)(out + n + 1);
  memcpy(bytes, tmp, len + 1);
  free(tmp);
  size_t j = 0;
  if (len > 0) {
    out[j++] = bytes;
    for (size_t i = 0; i < len; i++)
      if (bytes[i] == '\0') out[j++] = bytes + i + 1;
  }
  out[j] = NULL;
  return out;
}

/* A JS array of strings as one malloc'd block: NULL-terminated pointers, then the bytes. */
static char **to_cstrv(napi_env env, napi_value arr, uint32_t *count) {
  uint32_t n;
  size_t total = 0, len;
  napi_value v;
  napi_valuetype t;
  if (napi_typeof(env, arr, &t) == napi_ok && t == napi_string) return block_to_cstrv(env, arr);
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (napi_get_element(env, arr, i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
      return NULL;
    total += len + 1;
  }
  char **out = malloc((n + 1) * sizeof(char *) + total);
  if (out == NULL) return NULL;
  char *bytes = (char *)(out + n + 1);
  for (uint32_t i = 0; i < n; i++) {
    if (napi_get_element(env, arr, i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, bytes, total, &len) != napi_ok) {
      free(out);
      return NULL;
    }
    out[i] = bytes;
    bytes += len + 1;
    total -= len + 1;
  }
  out[n] = NULL;
  if (count != NULL) *count = n;
  return out;
}

static void throw_failure(napi_env env, const char *stage, int err, int index) {
  napi_value msg, error, v;
  char text[128];
  snprintf(text, sizeof text, "spawn failed at %s: errno %d", stage, err);
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok)
    return;
  if (napi_create_string_utf8(env, stage, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, error, "stage", v);
  if (napi_create_int32(env, err, &v) == napi_ok) napi_set_named_property(env, error, "errno", v);
  if (napi_create_int32(env, index, &v) == napi_ok) napi_set_named_property(env, error, "index", v);
  napi_throw(env, error);
}

static int open_pipe(int p[2]) {
  if (pipe2(p, O_CLOEXEC) == 0) return 0;
  p[0] = p[1] = -1;
  return -1;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* A hex field of /proc/self/status ("SigIgn:\t0000000000001000"), or -1 if it is not there. */
static int status_mask(const char *text, const char *field, uint64_t *out) {
  const char *p = strstr(text, field);
  if (p == NULL) return -1;
  p += strlen(field);
  while (*p == ' ' || *p == '\t') p++;
  uint64_t v = 0;
  int digits = 0;
  for (;; p++, digits++) {
    int d;
    if (*p >= '0' && *p <= '9') d = *p - '0';
    else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
    else break;
    v = v << 4 | (uint64_t)d;
  }
  if (digits == 0) return -1;
  *out = v;
  return 0;
}

/*
 * The signals whose disposition is not SIG_DFL (ignored or handled), as a bit set: what the
 * child must reset. One pread of /proc/self/status (kept open; a seq_file is rendered anew
 * at offset 0) costs less than the 64 rt_sigaction calls it saves the child. Read at every
 * spawn: handlers come and go (process.on('SIGxxx')). -1 without /proc: reset everything.
 */
static int g_status_fd = -2; /* -2: not opened yet; -1: cannot be */

static int nondefault_signals(uint64_t *set) {
  if (g_status_fd == -2) g_status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (g_status_fd < 0) return -1;
  char text[8192];
  ssize_t n;
  do n = pread(g_status_fd, text, sizeof text - 1, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  text[n] = '\0';
  uint64_t ign, cgt;
  if (status_mask(text, "\nSigIgn:", &ign) < 0 || status_mask(text, "\nSigCgt:", &cgt) < 0) return -1;
  *set = ign | cgt;
  return 0;
}

/*
 * /dev/null, opened once and kept (close-on-exec; each child dup2s it as its stdin): an
 * open and a close fewer per spawn, both before the child runs. And our pid, which
 * glibc no longer caches (this process never forks without exec'ing).
 */
static int g_devnull = -1;
static pid_t g_pid;

static int shared_devnull(void) {
  if (g_devnull < 0) g_devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  return g_devnull;
}

static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value args[8], result = NULL, v;
  char **cand = NULL, **argv = NULL, **envp = NULL, *cwd = NULL;
  int devnull, out[2] = {-1, -1}, errp[2] = {-1, -1};
  int32_t mode_out, mode_err;
  napi_valuetype t;
  child_t *c = NULL;
  child_args a;
  memset(&a, 0, sizeof a);

  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (g_loop == NULL) g_loop = loop;
  if (loop != g_loop) {
    napi_throw_error(env, NULL, "pidpilot_spawn can only be used from the thread that first used it");
    return NULL;
  }
  if (argc < 7) goto napi_failed;
  if ((cand = to_cstrv(env, args[0], &a.ncand)) == NULL) goto napi_failed;
  if ((argv = to_cstrv(env, args[1], NULL)) == NULL) goto napi_failed;
  if ((envp = to_cstrv(env, args[2], NULL)) == NULL) goto napi_failed;
  if (argv[0] == NULL || a.ncand == 0) goto napi_failed;
  CHECK(napi_typeof(env, args[3], &t));
  if (t == napi_string) {
    size_t len;
    CHECK(napi_get_value_string_utf8(env, args[3], NULL, 0, &len));
    if ((cwd = malloc(len + 1)) == NULL) goto napi_failed;
    CHECK(napi_get_value_string_utf8(env, args[3], cwd, len + 1, &len));
  }
  CHECK(napi_get_value_int32(env, args[4], &mode_out));
  CHECK(napi_get_value_int32(env, args[5], &mode_err));
  CHECK(napi_typeof(env, args[6], &t));
  if (t != napi_function) goto napi_failed;
  /* Optional credentials: [uid, gid, ...supplementary gids]. */
  if (argc >= 8 && napi_typeof(env, args[7], &t) == napi_ok && t == napi_object) {
    uint32_t n = 0;
    int64_t id;
    CHECK(napi_get_array_length(env, args[7], &n));
    if (n < 2 || n - 2 > MAX_GROUPS) goto napi_failed;
    for (uint32_t i = 0; i < n; i++) {
      CHECK(napi_get_element(env, args[7], i, &v));
      CHECK(napi_get_value_int64(env, v, &id));
      if (id < 0 || id > 0xfffffffeLL) goto napi_failed;
      if (i == 0) a.uid = (uid_t)id;
      else if (i == 1) a.gid = (gid_t)id;
      else a.groups[i - 2] = (gid_t)id;
    }
    a.ngroups = n - 2;
    a.set_ids = 1;
  }

  const char *fail_stage = NULL;
  if ((devnull = shared_devnull()) < 0) fail_stage = "stdio";
  else if (mode_out == MODE_PIPE && open_pipe(out) < 0) fail_stage = "stdio";
  else if (mode_err == MODE_PIPE && open_pipe(errp) < 0) fail_stage = "stdio";
  if (fail_stage != NULL) {
    throw_failure(env, fail_stage, errno, -1);
    goto cleanup;
  }

  a.cand = cand;
  a.search = strchr(argv[0], '/') == NULL;
  a.argv = argv;
  a.envp = envp;
  a.cwd = cwd;
  a.fd_in = devnull;
  a.fd_out = mode_out == MODE_PIPE ? out[1] : mode_out == MODE_IGNORE ? devnull : -1;
  a.fd_err = mode_err == MODE_PIPE ? errp[1] : mode_err == MODE_IGNORE ? devnull : -1;
  if (g_pid == 0) g_pid = getpid();
  a.parent = g_pid;
  a.dfl.sa_handler = SIG_DFL;
  sigemptyset(&a.dfl.sa_mask);
  sigemptyset(&a.empty);

  /* Blocked until the child has reset its dispositions: a handler of ours running in the
   * child would run on our memory. Which ones to reset is read just before the clone;
   * handlers are installed from this (the JS) thread, so none can come in between. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  a.reset_all = nondefault_signals(&a.nondefault) < 0;
  /* The child's stack lives in this frame: we are suspended until it execs or exits. */
  _Alignas(16) char stack[CHILD_STACK_SIZE];
  /* Exit signal SIGCHLD: a normal child for waitpid and for the SIGCHLD fallback. */
  pid_t pid = clone(child_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);

  close_fd(&out[1]);
  close_fd(&errp[1]);
  if (pid < 0) {
    throw_failure(env, "fork", clone_errno, -1);
    goto cleanup;
  }
  if (a.err != 0) {
    /* The child has _exited (that is what released us): reap it, leave no zombie. */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    throw_failure(env, stage_names[a.stage], a.err, a.index);
    goto cleanup;
  }

  /* From here the child runs: it must be watched, or killed and reaped, never left behind. */
  napi_value resource, name;
  if ((c = calloc(1, sizeof *c)) == NULL ||
      napi_create_reference(env, args[6], 1, &c->on_exit) != napi_ok ||
      napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, "pidpilot:child", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, resource, name, &c->actx) != napi_ok ||
      (c->env = env, c->pid = pid, c->pipes[0] = out[0], c->pipes[1] = errp[0], watch_exit(c)) != 0) {
    kill(-pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    if (c != NULL) {
      if (c->on_exit != NULL) napi_delete_reference(env, c->on_exit);
      if (c->actx != NULL) napi_async_destroy(env, c->actx);
      free(c);
    }
    throw_failure(env, "watch", ENOMEM, -1);
    goto cleanup;
  }

  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, pid, &v));
  CHECK(napi_set_named_property(env, result, "pid", v));
  CHECK(napi_create_int32(env, out[0], &v));
  CHECK(napi_set_named_property(env, result, "stdout", v));
  CHECK(napi_create_int32(env, errp[0], &v));
  CHECK(napi_set_named_property(env, result, "stderr", v));
  out[0] = errp[0] = -1; /* handed over to JS */
  goto cleanup;

napi_failed: {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending)
      napi_throw_type_error(env, NULL,
                            "pidpilot_spawn.spawn(candidates: string[], argv: string[], env: string[], "
                            "cwd: string|null, stdout: 0|1|2, stderr: 0|1|2, onExit: function, "
                            "ids?: [uid, gid, ...groups])");
    result = NULL;
  }
cleanup:
  close_fd(&out[0]);
  close_fd(&out[1]);
  close_fd(&errp[0]);
  close_fd(&errp[1]);
  free(cand);
  free(argv);
  free(envp);
  free(cwd);
  return result;
}

static napi_value js_set_exit_watch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  char mode[16] = "";
  size_t len;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, arg, mode, sizeof mode, &len) != napi_ok ||
      (strcmp(mode, "pidfd") != 0 && strcmp(mode, "sigchld") != 0)) {
    napi_throw_type_error(env, NULL, "setExitWatch('pidfd' | 'sigchld')");
    return NULL;
  }
  g_force_sigchld = strcmp(mode, "sigchld") == 0;
  return NULL;
}

/*
 * exitNow(status): _exit(2) at once. pidpilot calls it as its very last step, after the
 * log has been written and every job has ended. A normal process.exit() joins libuv's
 * worker threads on the way out, and one of them may be blocked for good in a write to a
 * log reader that stopped reading: a PID 1 must not hang there.
 */
static napi_value js_exit_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  int32_t status = 1;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, arg, &status) != napi_ok) {
    napi_throw_type_error(env, NULL, "exitNow(status: number)");
    return NULL;
  }
  _exit(status & 0xff);
}

NAPI_MODULE_INIT() {
  /* spawn() takes the environment as one NUL-separated string too (to_cstrv). */
  napi_value yes;
  if (napi_get_boolean(env, true, &yes) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"envBlock", NULL, NULL, NULL, NULL, yes, napi_enumerable, NULL},
      {"setExitWatch", NULL, js_set_exit_watch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exitNow", NULL, js_exit_now, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok ||
      reaper_define(env, exports) != napi_ok || notify_define(env, exports) != napi_ok ||
      pipes_define(env, exports) != napi_ok || memory_define(env, exports) != napi_ok)
    return NULL;
  return exports;
}
