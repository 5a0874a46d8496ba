/*
 * What the parts of the pidpilot_spawn addon share: spawn.c (starting children and
 * watching their exit) and reaper.c (PID 1 duties: reaping orphans, child subreaper), notify.c (sd_notify sockets),
 * pipes.c (polling output pipes before they are read), memory.c (giving memory back once idle).
 */
#ifndef PIDPILOT_NATIVE_H
#define PIDPILOT_NATIVE_H

#include <sys/types.h>

#include <node_api.h>

/*
 * A child of ours whose exit status matters: the reaper must never drop it. It is either
 * watched by spawn.c or reaped by libuv in the node:child_process fallback (`finish` is
 * NULL: while such a child lives the reaper never reaps blindly, and waits until libuv has
 * reaped it). For spawn.c's children the reaper calls `finish` when it finds the child
 * exited first, in one of two ways:
 *   - `status` non-NULL: the reaper has reaped it (waitpid(-1)) with this wait status;
 *     `finish` kills what is left of its group and reports the status;
 *   - `status` NULL: the reaper only peeked at it (waitid(WNOWAIT)), it is still a zombie;
 *     `finish` reaps it itself.
 * Embedded in the owner's own record: registering allocates nothing.
 */
typedef struct reaper_owned_s {
  pid_t pid;
  void (*finish)(void *arg, const int *status);
  void *arg;
  struct reaper_owned_s *next;
  struct reaper_owned_s **pprev; /* NULL while not registered */
} reaper_owned_t;

/* Registers `o` for `pid` (before the child can have been seen by the reaper). */
void reaper_own(reaper_owned_t *o, pid_t pid, void (*finish)(void *, const int *), void *arg);
/* Unregisters `o`; a no-op if it is not registered. Call it when the child is reaped. */
void reaper_disown(reaper_owned_t *o);
/* Adds the reaper's functions to the addon's exports. */
napi_status reaper_define(napi_env env, napi_value exports);
/* Adds the sd_notify socket's functions (notify.c) to the addon's exports. */
napi_status notify_define(napi_env env, napi_value exports);
/* Adds watchOutput (pipes.c: is an output pipe worth reading?) to the addon's exports. */
napi_status pipes_define(napi_env env, napi_value exports);
/* A child that wrote to the pipes whose read ends are `fds` (-1: none) has exited: answer their pending watches now (pipes.c). */
void pipes_child_exited(const int *fds, int n);
/* Adds releaseMemory (memory.c: give back what start-up used, once idle) to the addon's exports. */
napi_status memory_define(napi_env env, napi_value exports);

#endif
