// Part of ig-heap-arena.so (bin/ig preloads it into the node of `ig run`): the addon loaded on a
// thread of its own while node starts.
//
// Why: ig's first call into the addon dlopen()s it, and with libelf and zlib beside it that is
// 1.5-2 ms of the JS thread, right before the object is parsed (bench/README.md "Start-up, round
// ten"). Node takes ~50 ms from here to ig's first line of JS, most of it on one core: a thread
// started now has long finished by then, and the process.dlopen() of the same file finds it loaded
// (the loader matches files by device and inode) and only runs the addon's module init. Nothing is
// registered with node here: the addon exports napi_register_module_v1, which node looks up itself.
//
// bin/ig names the file in IG_LAUNCHER_ADDON; ig takes the variable out of its environment with
// the preload (src/runtime/resident-memory.ts, forgetLauncherTunables). Any failure leaves the
// load to node, as without this file.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *load_addon(void *file) {
  // never closed: the handle is node's once process.dlopen() opens the file again
  dlopen(file, RTLD_LAZY);  // node's own flags, so the second dlopen changes nothing
  free(file);
  return NULL;
}

__attribute__((constructor)) static void start_loading_addon(void) {
  const char *given = getenv("IG_LAUNCHER_ADDON");
  if (given == NULL || given[0] != '/') return;
  char *file = strdup(given);
  pthread_attr_t attr;
  pthread_t t;
  if (file == NULL || pthread_attr_init(&attr) != 0) {
    free(file);
    return;
  }
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&t, &attr, load_addon, file) != 0) free(file);
  pthread_attr_destroy(&attr);
}
