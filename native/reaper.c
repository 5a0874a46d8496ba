/*
 * The reaper: pidpilot's PID 1 duty of reaping orphaned zombies, part of pidpilot_spawn.
 *
 * As PID 1 every orphan of the container is re-parented to pidpilot; when not PID 1,
 * startReaper() makes pidpilot a child subreaper (PR_SET_CHILD_SUBREAPER) so that the
 * orphans of its jobs come to it rather than to whatever started it. Either way they
 * must be reaped, or they pile up as zombies. libuv reaps only the pids it spawned.
 *
 * The danger is stealing: a status reaped and dropped is lost to its owner. pidpilot's own
 * children are of two kinds. spawn.c's are registered here the moment they are made, with
 * a `finish` that takes their status; libuv's (the node:child_process fallback) are claimed
 * by pid, and libuv insists on reaping them itself (it waits for each of its pids, and
 * never reports one that is gone). So on SIGCHLD the reaper reaps in one of two ways:
 *   - while libuv has no child (always, with the native spawner): blindly, waitpid(-1), one
 *     system call a zombie, as tini does. A pid that is not registered is an orphan; a pid
 *     spawn.c registered gets its status through `finish`, which kills what is left of its
 *     process group and reports it. (That kill comes just after the reap: the leader's pid
 *     is the group's id, and stays taken while the group has a member; with no member
 *     left it is free again, and the kill could only reach another group if the kernel
 *     handed that pid out again, to a process that then made itself a group leader, in
 *     the few instructions between the two system calls of this one thread.)
 *   - while libuv has a child: it peeks (waitid(P_ALL, WNOWAIT)) at the first zombie child,
 *     which stays a zombie: not ours, an orphan, reaped (waitpid on that pid); spawn.c's,
 *     `finish` reaps it; libuv's, libuv reaps it in this same loop iteration, and the
 *     reaper stops and looks again in 1 ms. The kernel lists zombies in its order of
 *     children, so the peek returns the same zombie until it is reaped: two system calls
 *     an orphan, and nothing of libuv's is ever reaped by mistake.
 * Both run on the loop's thread, as do spawns and claims: a child is registered or claimed
 * before the reaper can see it, and a claim made by JS that `finish` runs takes effect
 * before the next reap.
 *
 * JS interface (see src/process/orphans.ts and native.ts):
 *   startReaper() -> { pid1: boolean, subreaper: boolean }   (idempotent)
 *   claimChild(pid) / releaseChild(pid): a pid libuv spawned and will reap
 *   reaperStats() -> { reaped: number, running: boolean, peeks: number }
 *     (orphans reaped so far; zombies peeked at, which happens only while libuv has a child)
 * Same thread rule as spawn.c: only the thread of the one libuv loop may call it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "pidpilot.h"

#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif

/* ---------------------------------------------------------------- the pids that are ours */

#define OWNED_BUCKETS 1024
static reaper_owned_t *g_owned[OWNED_BUCKETS];

static reaper_owned_t **bucket_of(pid_t pid) {
  return &g_owned[(uint32_t)pid % OWNED_BUCKETS];
}

void reaper_own(reaper_owned_t *o, pid_t pid, void (*finish)(void *, const int *), void *arg) {
  reaper_owned_t **head = bucket_of(pid);
  o->pid = pid;
  o->finish = finish;
  o->arg = arg;
  o->next = *head;
  if (*head != NULL) (*head)->pprev = &o->next;
  o->pprev = head;
  *head = o;
}

void reaper_disown(reaper_owned_t *o) {
  if (o->pprev == NULL) return;
  *o->pprev = o->next;
  if (o->next != NULL) o->next->pprev = o->pprev;
  o->next = NULL;
  o->pprev = NULL;
}

static reaper_owned_t *owned(pid_t pid) {
  for (reaper_owned_t *o = *bucket_of(pid); o != NULL; o = o->next)
    if (o->pid == pid) return o;
  return NULL;
}

/* ---------------------------------------------------------------- reaping */

static uv_loop_t *g_loop;
static int g_running;
static uv_signal_t g_sigchld;
static uv_timer_t g_retry;
static double g_reaped; /* orphans reaped (a double: JS numbers; no overflow in practice) */
static double g_peeks;  /* zombies peeked at (waitid WNOWAIT) rather than reaped blindly */
static unsigned g_libuv_children; /* claimed pids libuv has not reaped yet: no blind reaping */

static void reap_orphans(void);

static void on_sigchld(uv_signal_t *h, int signum) {
  (void)h;
  (void)signum;
  reap_orphans();
}

static void on_retry(uv_timer_t *t) {
  (void)t;
  reap_orphans();
}

/* The first zombie child belongs to someone who will reap it soon: look again shortly. */
static void retry_soon(void) {
  if (!uv_is_active((uv_handle_t *)&g_retry)) (void)uv_timer_start(&g_retry, on_retry, 1, 0);
}

static void reap_orphans(void) {
  for (;;) {
    pid_t pid;
    reaper_owned_t *o;
    if (g_libuv_children == 0) {
      int status;
      do pid = waitpid(-1, &status, WNOHANG);
      while (pid < 0 && errno == EINTR);
      if (pid <= 0) return; /* ECHILD: no children at all; 0: none has exited */
      o = owned(pid);
      if (o == NULL) g_reaped++;
      else if (o->finish != NULL) o->finish(o->arg, &status); /* may run JS: spawn, claim, exit */
      /* (finish NULL is libuv's, and there is none while the count is 0) */
      continue;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || si.si_pid == 0) return;
    g_peeks++;
    pid = si.si_pid;
    o = owned(pid);
    if (o == NULL) {
      pid_t p;
      do p = waitpid(pid, NULL, WNOHANG);
      while (p < 0 && errno == EINTR);
      if (p == pid) g_reaped++;
      continue;
    }
    if (o->finish == NULL) {
      retry_soon();
      return;
    }
    o->finish(o->arg, NULL); /* reaps it; may run JS (the exit callback), which may spawn or exit */
    /* Must not spin if the owner did not reap it after all. */
    if (owned(pid) != NULL) {
      retry_soon();
      return;
    }
  }
}

/* ---------------------------------------------------------------- JS glue */

static napi_value make_bool_pair(napi_env env, const char *k1, int v1, const char *k2, int v2) {
  napi_value obj, a, b;
  if (napi_create_object(env, &obj) != napi_ok || napi_get_boolean(env, v1, &a) != napi_ok ||
      napi_get_boolean(env, v2, &b) != napi_ok || napi_set_named_property(env, obj, k1, a) != napi_ok ||
      napi_set_named_property(env, obj, k2, b) != napi_ok)
    return NULL;
  return obj;
}

static void throw_errno(napi_env env, const char *what, int err) {
  char text[160];
  snprintf(text, sizeof text, "%s: %s (errno %d)", what, strerror(err), err);
  napi_throw_error(env, NULL, text);
}

static napi_value js_start_reaper(napi_env env, napi_callback_info info) {
  (void)info;
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  if (g_loop != NULL && loop != g_loop) {
    napi_throw_error(env, NULL, "the reaper can only be used from the thread that started it");
    return NULL;
  }
  int pid1 = getpid() == 1;
  if (!g_running) {
    /* Subreaper first: orphans of a job that die from now on come to us. */
    if (!pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
      throw_errno(env, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
      return NULL;
    }
    int r;
    if ((r = uv_signal_init(loop, &g_sigchld)) != 0 || (r = uv_timer_init(loop, &g_retry)) != 0 ||
        (r = uv_signal_start(&g_sigchld, on_sigchld, SIGCHLD)) != 0) {
      throw_errno(env, "cannot watch SIGCHLD", -r);
      return NULL;
    }
    /* pidpilot's own handles keep it alive; the reaper must not. */
    uv_unref((uv_handle_t *)&g_sigchld);
    uv_unref((uv_handle_t *)&g_retry);
    g_loop = loop;
    g_running = 1;
    reap_orphans(); /* zombies that were already there */
  }
  return make_bool_pair(env, "pid1", pid1, "subreaper", !pid1);
}

static int pid_arg(napi_env env, napi_callback_info info, pid_t *pid) {
  size_t argc = 1;
  napi_value arg;
  int32_t v;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, arg, &v) != napi_ok || v <= 0) {
    napi_throw_type_error(env, NULL, "expected a pid (a positive integer)");
    return 0;
  }
  *pid = v;
  return 1;
}

static napi_value js_claim_child(napi_env env, napi_callback_info info) {
  pid_t pid;
  if (!pid_arg(env, info, &pid)) return NULL;
  if (owned(pid) != NULL) return NULL;
  /* A pid reaped by libuv, not by us: no finish. */
  reaper_owned_t *o = calloc(1, sizeof *o);
  if (o == NULL) {
    throw_errno(env, "claimChild", ENOMEM);
    return NULL;
  }
  reaper_own(o, pid, NULL, NULL);
  g_libuv_children++;
  return NULL;
}

static napi_value js_release_child(napi_env env, napi_callback_info info) {
  pid_t pid;
  if (!pid_arg(env, info, &pid)) return NULL;
  reaper_owned_t *o = owned(pid);
  if (o == NULL || o->finish != NULL) return NULL; /* spawn.c's own entries are not JS's to drop */
  reaper_disown(o);
  free(o);
  g_libuv_children--;
  if (g_running) reap_orphans(); /* it may have held up orphans behind it */
  return NULL;
}

static napi_value js_reaper_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_double(env, g_reaped, &v) != napi_ok ||
      napi_set_named_property(env, obj, "reaped", v) != napi_ok || napi_get_boolean(env, g_running, &v) != napi_ok ||
      napi_set_named_property(env, obj, "running", v) != napi_ok || napi_create_double(env, g_peeks, &v) != napi_ok ||
      napi_set_named_property(env, obj, "peeks", v) != napi_ok)
    return NULL;
  return obj;
}

napi_status reaper_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"startReaper", NULL, js_start_reaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"claimChild", NULL, js_claim_child, NULL, NULL, NULL, napi_enumerable, NULL},
      {"releaseChild", NULL, js_release_child, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reaperStats", NULL, js_reaper_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
