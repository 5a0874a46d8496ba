# The native addon (native/spawn.c: spawning; native/reaper.c: reaping orphans; native/notify.c: sd_notify sockets; native/pipes.c: polling output pipes; native/memory.c: giving memory back once idle), built by `npm install` through node-gyp.
# Linux only: it relies on clone, pidfd_open, PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER and close_range.
{
  "targets": [
    {
      "target_name": "pidpilot_spawn",
      "sources": ["native/spawn.c", "native/reaper.c", "native/notify.c", "native/pipes.c", "native/memory.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "cflags!": ["-Wno-unused-parameter"]
    }
  ]
}
