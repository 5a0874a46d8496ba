/*
 * watchOutput(fd, onReady): tells once, in libuv's loop, whether a child's output pipe has
 * anything to say, before pidpilot pays for reading it.
 *
 * Wrapping a pipe in a net.Socket (a libuv stream with Node's Duplex machinery around it)
 * costs far more than the system calls under it, and most quick commands (a chain of
 * one-shot jobs, `sleep` waiting for SIGTERM) never write a byte. So each output pipe is
 * first only polled: onReady(true) as soon as it has data (the JS side then wraps it in a
 * Socket and reads it as before), onReady(false) when every writer has closed it with
 * nothing in it (the JS side ends the stream and closes the fd: no Socket at all).
 *
 * The poll is removed from epoll before onReady runs, so the fd may be closed or handed to
 * a Socket from the callback. The fd stays the caller's: this never closes it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ioctl.h>

#include <node_api.h>
#include <uv.h>

#include "pidpilot.h"

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref on_ready;
  napi_async_context actx;
  int fd;
} output_watch_t;

static void on_closed(uv_handle_t *h) {
  free(h->data);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  output_watch_t *w = h->data;
  /* Data waiting, or a poll error (let the Socket's read report it): read it. Only a
   * hang-up with an empty pipe means nothing will ever come. */
  int avail = 0;
  int has_data = 1;
  if (status == 0 && (events & UV_DISCONNECT) && ioctl(w->fd, FIONREAD, &avail) == 0 && avail == 0) has_data = 0;
  uv_poll_stop(h); /* out of epoll now: the fd may be reused from the callback */
  uv_close((uv_handle_t *)h, on_closed);

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
  int r = uv_poll_init(loop, &w->handle, fd);
  if (r != 0) {
    free(w);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  if (napi_create_reference(env, args[1], 1, &w->on_ready) != napi_ok ||
      napi_create_string_utf8(env, "pidpilot:output", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &w->actx) != napi_ok) {
    uv_close((uv_handle_t *)&w->handle, on_closed);
    goto failed;
  }
  if ((r = uv_poll_start(&w->handle, UV_READABLE | UV_DISCONNECT, on_poll)) != 0) {
    napi_delete_reference(env, w->on_ready);
    napi_async_destroy(env, w->actx);
    uv_close((uv_handle_t *)&w->handle, on_closed);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
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
