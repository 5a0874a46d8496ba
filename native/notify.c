/*
 * The receiving end of systemd's sd_notify protocol: software built for systemd sends
 * datagrams like "READY=1\nSTATUS=listening" to the AF_UNIX socket named by
 * $NOTIFY_SOCKET. Node cannot bind a unix datagram socket (node:dgram is UDP only), so
 * this addon does: it binds one, reads it in libuv's loop, and hands each message to JS.
 *
 * JS interface (see src/process/notify.ts):
 *   notifyListen(path, onMessage(pid, uid, text)) -> id
 *     Binds a SOCK_DGRAM socket at `path` (which must not exist) with SO_PASSCRED, so each
 *     message comes with the sender's pid and uid as the kernel vouches for them. The
 *     poll handle is unref'd: a listening socket never keeps pidpilot alive.
 *   notifyClose(id): stops reading and closes the socket (the file is the caller's).
 *
 * What a sender cannot do to PID 1: a message is at most NOTIFY_MAX bytes (longer ones are
 * dropped, as systemd does); file descriptors passed along (systemd's FDSTORE) are closed
 * at once, so they cannot pile up; at most BATCH messages are read per wake-up, so a
 * flood shares the loop with everything else instead of holding it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include "pidpilot.h"

/* systemd's own bound (NOTIFY_BUFFER_MAX is PIPE_BUF). */
#define NOTIFY_MAX 4096
#define BATCH 64
/* Room for the credentials and a few passed fds; more fds are discarded by the kernel (MSG_CTRUNC). */
#define MAX_FDS 16

typedef struct notify_sock_s {
  uv_poll_t handle;
  int fd;
  uint32_t id;
  int closing;
  napi_env env;
  napi_ref on_message;
  napi_async_context actx;
  struct notify_sock_s *next;
} notify_sock_t;

static notify_sock_t *g_socks;
static uint32_t g_next_id = 1;

static void on_closed(uv_handle_t *h) {
  notify_sock_t *s = h->data;
  close(s->fd);
  free(s);
}

/* Unlinks s from the list and closes it; the memory goes in the close callback. */
static void close_sock(notify_sock_t *s) {
  if (s->closing) return;
  s->closing = 1;
  for (notify_sock_t **pp = &g_socks; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  }
  napi_delete_reference(s->env, s->on_message);
  napi_async_destroy(s->env, s->actx);
  uv_close((uv_handle_t *)&s->handle, on_closed);
}

static void deliver(notify_sock_t *s, int32_t pid, int32_t uid, const char *text, size_t len) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[3];
  if (napi_get_reference_value(env, s->on_message, &fn) == napi_ok && fn != NULL &&
      napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, pid, &argv[0]) == napi_ok &&
      napi_create_int32(env, uid, &argv[1]) == napi_ok &&
      napi_create_string_utf8(env, text, len, &argv[2]) == napi_ok) {
    if (napi_make_callback(env, s->actx, recv, fn, 3, argv, NULL) == napi_pending_exception) {
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  notify_sock_t *s = h->data;
  if (status < 0) return;
  static char buf[NOTIFY_MAX + 1];
  for (int i = 0; i < BATCH && !s->closing; i++) {
    union {
      struct cmsghdr align;
      char bytes[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * MAX_FDS)];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = NOTIFY_MAX};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.bytes;
    msg.msg_controllen = sizeof ctl.bytes;
    ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN: drained */
    }
    int32_t pid = 0, uid = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
        struct ucred cred;
        memcpy(&cred, CMSG_DATA(c), sizeof cred);
        pid = cred.pid;
        uid = (int32_t)cred.uid;
      } else if (c->cmsg_type == SCM_RIGHTS) {
        size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t k = 0; k < nfds; k++) {
          int fd;
          memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
          close(fd);
        }
      }
    }
    /* Longer than systemd accepts: dropped whole, never read as a prefix. */
    if ((size_t)n > NOTIFY_MAX || (msg.msg_flags & MSG_TRUNC)) continue;
    deliver(s, pid, uid, buf, (size_t)n);
  }
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "notify: invalid call: " #call);    \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char text[256];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  napi_value msg, error, code;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) == napi_ok &&
      napi_create_error(env, NULL, msg, &error) == napi_ok && napi_create_int32(env, err, &code) == napi_ok &&
      napi_set_named_property(env, error, "errno", code) == napi_ok)
    napi_throw(env, error);
  return NULL;
}

static napi_value js_notify_listen(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_valuetype t;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 2 || napi_typeof(env, args[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "notifyListen(path: string, onMessage: (pid, uid, text) => void)");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, args[0], addr.sun_path, sizeof addr.sun_path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "notifyListen: the path must be a string");
    return NULL;
  }
  if (len == 0 || len >= sizeof addr.sun_path - 1) {
    napi_throw_range_error(env, NULL, "notifyListen: the socket path is empty or too long for a unix socket (107 bytes)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt(SO_PASSCRED)", err);
  }
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, addr.sun_path, err);
  }
  notify_sock_t *s = calloc(1, sizeof *s);
  napi_value name;
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "notifyListen", ENOMEM);
  }
  s->fd = fd;
  s->env = env;
  s->handle.data = s;
  if (napi_create_reference(env, args[1], 1, &s->on_message) != napi_ok ||
      napi_create_string_utf8(env, "pidpilot.notify", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &s->actx) != napi_ok) {
    if (s->on_message != NULL) napi_delete_reference(env, s->on_message);
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "notifyListen: cannot keep the callback");
    return NULL;
  }
  int r = uv_poll_init(loop, &s->handle, fd);
  if (r == 0) r = uv_poll_start(&s->handle, UV_READABLE, on_readable);
  if (r != 0) {
    napi_delete_reference(env, s->on_message);
    napi_async_destroy(env, s->actx);
    close(fd);
    free(s);
    return throw_errno(env, "uv_poll", -r);
  }
  uv_unref((uv_handle_t *)&s->handle);
  s->id = g_next_id++;
  s->next = g_socks;
  g_socks = s;
  napi_value id;
  CHECK(napi_create_uint32(env, s->id, &id));
  return id;
}

static napi_value js_notify_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  uint32_t id = 0;
  CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1 || napi_get_value_uint32(env, arg, &id) != napi_ok) {
    napi_throw_type_error(env, NULL, "notifyClose(id: number)");
    return NULL;
  }
  for (notify_sock_t *s = g_socks; s != NULL; s = s->next) {
    if (s->id == id) {
      close_sock(s);
      break;
    }
  }
  return NULL;
}

napi_status notify_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"notifyListen", NULL, js_notify_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"notifyClose", NULL, js_notify_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
