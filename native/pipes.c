/*
 * watchOutput(fd, onReady): tells once, in libuv's loop, whether a child's output pipe has
 * anything to say, before pidpilot pays for reading it.
 *
 * Wrapping a pipe in a net.Socket (a libuv stream with Node's Duplex machinery around it)
 * costs far more than the system calls under it, and most quick commands (a chain of
 * one-shot jobs, `sleep` waiting for SIGTERM) never write a byte. So each output pipe is
 * first only looked at: onReady(true) as soon as it has data (the JS side then wraps it in
 * a Socket and reads it as before), onReady(false) when every writer has closed it with
 * nothing in it (the JS side ends the stream and closes the fd: no Socket at all).
 *
 * Looked at when, though? A uv_poll on the fd costs five system calls (uv_poll_init checks
 * the fd with an epoll_ctl add and delete and makes it non-blocking; then an add and a
 * delete around the watch), about a microsecond each here, for an answer that for a quick
 * command is known the moment it exits. So a new watch is first only pending:
 *   - when the child that writes to it exits (spawn.c calls pipes_child_exited with the
 *     read ends it made for it), one poll() with no wait answers for both of its pipes:
 *     data, or closed empty; only a pipe something else still holds open (a grandchild)
 *     gets a uv_poll then;
 *   - if the child is still running PENDING_MS after the watch began (a service, a long
 *     command), the same look is taken then, and the pipe gets its uv_poll: its first
 *     output is relayed at most PENDING_MS late (the pipe's buffer holds it meanwhile).
 * A pipe's answer is a fact about the pipe, not about the child: if the fd number was
 * reused, looking at it early is harmless. What is lost is the order of a quick command's
 * first writes to its two pipes: seen at once at its exit, stdout is answered (and relayed)
 * first, then stderr; a watch in the loop answers each pipe as its data comes.
 *
 * The watch is out of epoll before onReady runs, so the fd may be closed or handed to a
 * Socket from the callback. The fd stays the caller's: this never closes it.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <node_api.h>
#include <uv.h>

#include "pidpilot.h"

/* How long a watch waits for its child's exit before it polls the pipe in the loop. */
#define PENDING_MS 20

typedef struct output_watch_s {
  uv_poll_t handle; /* initialised only once the pipe needs polling */
  uv_timer_t timer;
  napi_env env;
  napi_ref on_ready;
  napi_async_context actx;
  int fd;
  int polling;      /* handle is initialised */
  int open_handles; /* freed when the last one's close callback has run */
  struct output_watch_s *next, **pprev; /* the pending list while pending */
} output_watch_t;

static output_watch_t *g_pending;

static void unlink_pending(output_watch_t *w) {
  if (w->pprev == NULL) return;
  *w->pprev = w->next;
  if (w->next != NULL) w->next->pprev = w->pprev;
  w->next = NULL;
  w->pprev = NULL;
}

static void on_closed(uv_handle_t *h) {
  output_watch_t *w = h->data;
  if (--w->open_handles == 0) free(w);
}

/* Out of epoll and off the pending list, then onReady(hasData) once; frees w afterwards. */
static void answer(output_watch_t *w, int has_data) {
  unlink_pending(w);
  uv_timer_stop(&w->timer);
  uv_close((uv_handle_t *)&w->timer, on_closed);
  /* uv_close stops the poll at once (out of epoll now: the fd may be reused from the
   * callback); a uv_poll_stop before it would make libuv remove it from epoll twice. */
  if (w->polling) uv_close((uv_handle_t *)&w->handle, on_closed);

  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value fn, recv, arg;
    if (napi_get_reference_value(env, w->on_ready, &fn) == napi_ok && fn != NULL &&
        napi_get_global(env, &recv) == napi_ok && napi_get_boolean(env, has_data, &arg) == napi_ok) {
      /* make_callback: the microtask queue runs afterwards, as after any libuv callback. */
      if (napi_make_callback(env, w->actx, recv, fn, 1, &arg, NULL) == napi_pending_exception) {
        napi_value exc;
        if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
      }
    }
    napi_close_handle_scope(env, scope);
  }
  napi_delete_reference(env, w->on_ready);
  napi_async_destroy(env, w->actx);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  output_watch_t *w = h->data;
  /* Data waiting, or a poll error (let the Socket's read report it): read it. Only a
   * hang-up with an empty pipe means nothing will ever come (libuv reports a hang-up as
   * readable too: FIONREAD tells). */
  int avail = 0;
  int has_data = 1;
  if (status == 0 && (events & UV_DISCONNECT) && ioctl(w->fd, FIONREAD, &avail) == 0 && avail == 0) has_data = 0;
  answer(w, has_data);
}

/* What one poll() said of w's pipe: answered, or (nothing yet, a writer still there) polled in the loop. */
static void settle(output_watch_t *w, short revents) {
  if (revents & (POLLIN | POLLERR | POLLNVAL)) {
    answer(w, 1); /* data, or an error the Socket's read will report */
    return;
  }
  if (revents & POLLHUP) {
    answer(w, 0); /* every writer closed it, nothing in it */
    return;
  }
  unlink_pending(w);
  uv_timer_stop(&w->timer);
  int r = uv_poll_init(w->timer.loop, &w->handle, w->fd);
  if (r == 0) {
    w->polling = 1;
    w->open_handles++;
    if (uv_poll_start(&w->handle, UV_READABLE | UV_DISCONNECT, on_poll) == 0) return;
  }
  answer(w, 1); /* cannot watch it: let the Socket's read say what is wrong */
}

static void look(output_watch_t *w) {
  struct pollfd p = {.fd = w->fd, .events = POLLIN};
  if (poll(&p, 1, 0) < 0) p.revents = POLLERR;
  settle(w, p.revents);
}

static void on_timer(uv_timer_t *t) {
  look(t->data);
}

void pipes_child_exited(const int *fds, int n) {
  output_watch_t *found[2];
  struct pollfd p[2];
  int k = 0;
  /* In the order given (stdout, then stderr): with data in both, that is the order they are
   * answered, and so relayed (which came first is not known any more: see the top). */
  for (int i = 0; i < n && k < 2; i++) {
    if (fds[i] < 0) continue;
    for (output_watch_t *w = g_pending; w != NULL; w = w->next) {
      if (w->fd != fds[i]) continue;
      found[k] = w;
      p[k].fd = w->fd;
      p[k].events = POLLIN;
      p[k].revents = 0;
      k++;
      break;
    }
  }
  if (k == 0) return;
  if (poll(p, (nfds_t)k, 0) < 0)
    for (int i = 0; i < k; i++) p[i].revents = POLLERR;
  /* Each answer may run JS, which may start a new watch: the list is not walked again. */
  for (int i = 0; i < k; i++) settle(found[i], p[i].revents);
}

static napi_value js_watch_output(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], name;
  int32_t fd;
  napi_valuetype t;
  uv_loop_t *loop;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, args[0], &fd) != napi_ok || fd < 0 || napi_typeof(env, args[1], &t) != napi_ok ||
      t != napi_function) {
    napi_throw_type_error(env, NULL, "watchOutput(fd: number, onReady: (hasData: boolean) => void)");
    return NULL;
  }
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) goto failed;
  output_watch_t *w = calloc(1, sizeof *w);
  if (w == NULL) goto failed;
  w->env = env;
  w->fd = fd;
  w->handle.data = w;
  w->timer.data = w;
  int r = uv_timer_init(loop, &w->timer);
  if (r != 0) {
    free(w);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  w->open_handles = 1;
  if (napi_create_reference(env, args[1], 1, &w->on_ready) != napi_ok ||
      napi_create_string_utf8(env, "pidpilot:output", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &w->actx) != napi_ok) {
    if (w->on_ready != NULL) napi_delete_reference(env, w->on_ready);
    uv_close((uv_handle_t *)&w->timer, on_closed);
    goto failed;
  }
  if ((r = uv_timer_start(&w->timer, on_timer, PENDING_MS, 0)) != 0) {
    napi_delete_reference(env, w->on_ready);
    napi_async_destroy(env, w->actx);
    uv_close((uv_handle_t *)&w->timer, on_closed);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  w->next = g_pending;
  if (g_pending != NULL) g_pending->pprev = &w->next;
  w->pprev = &g_pending;
  g_pending = w;
  return NULL;
failed:
  napi_throw_error(env, NULL, "watchOutput: out of memory or N-API failure");
  return NULL;
}

napi_status pipes_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"watchOutput", NULL, js_watch_output, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
