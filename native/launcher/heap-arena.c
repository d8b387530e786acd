// ig-heap-arena.so: bin/ig preloads it into the node process of `ig run` (LD_PRELOAD), so that each
// page of V8's heap is faulted in by the kernel in one call when V8 commits it, not 4 KiB at a time
// as V8 first writes it.
//
// Why: on a VM the first touch of each 4 KiB page is a fault costing ~10-15 us, and V8's
// deserializer writes ~6 MB of heap from the start-up snapshot into fresh pages: ~1,900 faults,
// ~20 ms of every start. MADV_POPULATE_WRITE makes the same pages in one system call per 256 KiB
// heap page, for about half the cost per page (bench/README.md "Start-up, round nine"). Huge pages
// were tried and not kept: V8 maps each heap page apart, at a random address hint, so none ever
// fills an aligned 2 MB range; placed side by side they could, but on this guest a fresh huge page
// comes from 2 MB blocks the hypervisor took back while they were free (virtio-balloon free page
// reporting), and a start after a few idle seconds was slower with them than with populated pages.
//
// Which mappings are heap pages: what V8's page allocator asks for (platform-posix.cc), a
// reservation with an address hint, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, no file, up
// to 64 MB (its code range and wasm memories reserve more, and code pages, which V8 flips between
// writable and executable, are in the code range). Those reservations come from one arena reserved
// here, so that a commit (mprotect READ|WRITE) is recognised by its address alone. V8 trims a
// reservation to its alignment (munmap of the tail), advises it MADV_DONTFORK, commits it, and
// frees it with munmap. Addresses are never handed out twice: a freed page becomes a fresh
// PROT_NONE reservation again (its memory goes back to the kernel), and only the untouched tail V8
// trims off the page it was just given is taken back. When the arena is used up, or could not be
// reserved, V8's own hints are used as without this library; on a kernel without
// MADV_POPULATE_WRITE (before 5.14) pages fault in as before.
//
// Only libc's entry points are replaced (node calls them through its PLT); glibc's own calls (its
// malloc) do not come here. The library calls the kernel directly and allocates nothing.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define HEAP_PAGE (256UL << 10)  // V8's heap page (and its alignment)
#define ARENA (1UL << 30)        // address space only (MAP_NORESERVE); beyond it V8 maps as usual
#define LARGEST (64UL << 20)     // larger reservations are V8's code range or wasm memories
#define RESERVATION (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

static uintptr_t arena_start, arena_end;  // set once, before node starts a thread
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t next;  // where the next reservation starts (heap-page aligned)
static uintptr_t last;  // start of the last reservation handed out
static int last_fresh;  // and V8 has not committed or trimmed it yet: its tail is untouched

static uintptr_t heap_page_up(uintptr_t a) { return (a + HEAP_PAGE - 1) & ~(HEAP_PAGE - 1); }

static void *kernel_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

// The flags every part of the arena carries: V8's own MADV_DONTFORK, and no huge pages even where
// the system gives them unasked (see above), as V8's scattered pages never got any.
static void advise(uintptr_t start, size_t len) {
  madvise((void *)start, len, MADV_NOHUGEPAGE);
  madvise((void *)start, len, MADV_DONTFORK);
}

__attribute__((constructor)) static void reserve_arena(void) {
  uintptr_t p = (uintptr_t)kernel_mmap(NULL, ARENA + HEAP_PAGE, PROT_NONE, RESERVATION, -1, 0);
  if (p == (uintptr_t)MAP_FAILED) return;
  uintptr_t start = heap_page_up(p);
  advise(start, ARENA);
  next = last = start;
  arena_end = start + ARENA;
  arena_start = start;
}

static int in_arena(uintptr_t addr, size_t len) {
  return arena_start && addr >= arena_start && addr < arena_end && len <= arena_end - addr;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (arena_start && addr && prot == PROT_NONE && flags == RESERVATION && fd == -1 && len && len <= LARGEST) {
    pthread_mutex_lock(&lock);
    uintptr_t p = next;
    if (len <= arena_end - p) {
      // the part V8 keeps ends heap-page aligned, so the next reservation starts there
      next = heap_page_up(p + len);
      last = p;
      last_fresh = 1;
      pthread_mutex_unlock(&lock);
      return (void *)p;
    }
    pthread_mutex_unlock(&lock);
  }
  return kernel_mmap(addr, len, prot, flags, fd, off);
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __attribute__((alias("mmap")));

int munmap(void *addr, size_t len) {
  uintptr_t a = (uintptr_t)addr;
  if (!in_arena(a, len)) return syscall(SYS_munmap, addr, len);
  pthread_mutex_lock(&lock);
  if (last_fresh && a > last && heap_page_up(a + len) == next) {
    // the tail of the reservation just handed out, trimmed to V8's alignment before V8 used any of
    // it: the next one starts here (a tail freed later, e.g. of a large object that shrank, held
    // data and goes back to the kernel as any page)
    next = heap_page_up(a);
    last_fresh = 0;
    pthread_mutex_unlock(&lock);
    return 0;
  }
  last_fresh = 0;
  pthread_mutex_unlock(&lock);
  // a page V8 is done with: its memory goes back to the kernel, its addresses stay reserved
  if (kernel_mmap(addr, len, PROT_NONE, RESERVATION | MAP_FIXED, -1, 0) == MAP_FAILED) return -1;
  advise(a, len);
  return 0;
}

int mprotect(void *addr, size_t len, int prot) {
  int r = syscall(SYS_mprotect, addr, len, prot);
  uintptr_t a = (uintptr_t)addr;
  if (r == 0 && prot == (PROT_READ | PROT_WRITE) && in_arena(a, len)) {
    pthread_mutex_lock(&lock);
    last_fresh = 0;
    pthread_mutex_unlock(&lock);
    // V8 commits a page as it starts to fill it: fault it all in at once
    madvise(addr, len, MADV_POPULATE_WRITE);
  }
  return r;
}
