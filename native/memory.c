/*
 * releaseMemory(): gives back what start-up used and an idle pidpilot no longer needs.
 * pidpilot calls it once, when the jobs it starts with have started and it has gone quiet
 * (src/process/idle-memory.ts). Measured with 100 idle jobs: 5–6 MB of RSS, most of it V8's.
 *
 * - V8: Isolate::LowMemoryNotification(), a full collection that reduces memory: it shrinks
 *   the young generation back to its first size (start-up grew it, and V8 keeps it grown
 *   until its memory reducer runs, ≈ 8 s later), compacts the old generation and drops the
 *   bytecode of functions that ran only at start-up (the code cache loaded all of it; a
 *   function needed again is compiled again from the bundle's source). Node-API has no
 *   call for it, so the addon binds V8's own exported symbol, weakly: where the runtime
 *   does not export it, the pointer is NULL and this step is skipped.
 * - glibc: malloc_trim(0) returns the free pages of every malloc arena (start-up's and the
 *   worker threads' that compiled and collected) to the kernel. musl has no such call.
 */
#include <stdbool.h>
#include <stdlib.h> /* defines __GLIBC__ under glibc */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <node_api.h>

#include "pidpilot.h"

/* v8::Isolate::GetCurrent() and v8::Isolate::LowMemoryNotification(): a non-virtual member
 * function is, in the Itanium C++ ABI, a plain function whose first argument is `this`. */
extern void *_ZN2v87Isolate10GetCurrentEv(void) __attribute__((weak));
extern void _ZN2v87Isolate21LowMemoryNotificationEv(void *isolate) __attribute__((weak));

static napi_value js_release_memory(napi_env env, napi_callback_info info) {
  (void)info;
  bool collected = false, trimmed = false;
  if (_ZN2v87Isolate10GetCurrentEv && _ZN2v87Isolate21LowMemoryNotificationEv) {
    void *isolate = _ZN2v87Isolate10GetCurrentEv();
    if (isolate) {
      _ZN2v87Isolate21LowMemoryNotificationEv(isolate);
      collected = true;
    }
  }
#if defined(__GLIBC__)
  malloc_trim(0);
  trimmed = true;
#endif
  napi_value result, c, t;
  if (napi_create_object(env, &result) != napi_ok || napi_get_boolean(env, collected, &c) != napi_ok ||
      napi_get_boolean(env, trimmed, &t) != napi_ok || napi_set_named_property(env, result, "collected", c) != napi_ok ||
      napi_set_named_property(env, result, "trimmed", t) != napi_ok)
    return NULL;
  return result;
}

napi_status memory_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"releaseMemory", NULL, js_release_memory, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
