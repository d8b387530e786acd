// ig-heap-arena.so: bin/ig preloads it into the node process of `ig run` (LD_PRELOAD), so that V8's
// heap pages are placed side by side in one region advised for transparent huge pages.
//
// Why: on a VM the first touch of each 4 KiB page is a fault costing ~10-15 us, and V8's
// deserializer writes ~6 MB of heap from the start-up snapshot into fresh pages: ~1,500-1,900
// faults, ~20 ms of every start (bench/README.md "Start-up, round nine"). V8 maps each 256 KiB page
// of its heap on its own, at a random address hint, so no page is ever part of an aligned 2 MB
// range the kernel could back with one huge page, and V8 has no flag to change that. Here those
// reservations come from one 2 MB aligned arena instead, and when V8 makes a page writable the
// rest of its 2 MB chunk is made writable with it, so the chunk's first touch takes a huge page.
//
// What is recognised as a heap page: what V8's page allocator asks for (platform-posix.cc): a
// reservation with an address hint, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, no file,
// up to 64 MB (its code range and wasm memories reserve more and are left alone). V8 then trims
// the reservation to its alignment (munmap of the tail), advises it MADV_DONTFORK, and commits it
// with mprotect(READ|WRITE); it frees a page with munmap. Everything else goes straight to the
// kernel. Addresses are never handed out twice: a freed page becomes a fresh PROT_NONE reservation
// again (its memory goes back to the kernel), and only the untouched tail V8 trims off the page it
// was just given is taken back. When the arena is used up, or could not be reserved, V8's own
// hints are used as without this library.
//
// Only libc's entry points are replaced (node calls them through its PLT); glibc's own calls (its
// malloc) do not come here. The library calls the kernel directly and allocates nothing.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK (2UL << 20)        // one transparent huge page on x86-64 and arm64 (4 KiB base pages)
#define HEAP_PAGE (256UL << 10)  // V8's heap page (and its alignment)
#define ARENA (1UL << 30)        // address space only (MAP_NORESERVE); V8's default heap limit is larger
#define LARGEST (64UL << 20)     // larger reservations are V8's code range or wasm memories
#define RESERVATION (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

static uintptr_t arena_start, arena_end;  // set once, before node starts a thread
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t next;          // where the next reservation starts (heap-page aligned)
static uintptr_t last;          // start of the last reservation handed out
static int last_fresh;          // and V8 has not committed or trimmed it yet: its tail is untouched
static uintptr_t writable_end;  // end of the chunks already made writable

static void *kernel_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

// the flags every part of the arena carries, so that neighbouring parts merge into one mapping
// (a huge page needs a mapping that covers its whole 2 MB); V8 advises its pages MADV_DONTFORK too
static void advise(uintptr_t start, size_t len) {
  madvise((void *)start, len, MADV_HUGEPAGE);
  madvise((void *)start, len, MADV_DONTFORK);
}

__attribute__((constructor)) static void reserve_arena(void) {
  uintptr_t p = (uintptr_t)kernel_mmap(NULL, ARENA + CHUNK, PROT_NONE, RESERVATION, -1, 0);
  if (p == (uintptr_t)MAP_FAILED) return;
  uintptr_t start = (p + CHUNK - 1) & ~(CHUNK - 1);
  advise(start, ARENA);
  next = last = writable_end = start;
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
      // the part V8 keeps ends heap-page aligned, so the next page follows it directly
      next = (p + len + HEAP_PAGE - 1) & ~(HEAP_PAGE - 1);
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
  uintptr_t end = (a + len + HEAP_PAGE - 1) & ~(HEAP_PAGE - 1);
  if (last_fresh && a > last && end == next) {
    // the tail of the reservation just handed out, trimmed to V8's alignment before V8 used any of
    // it: the next one starts here (a tail freed later, e.g. of a large object that shrank, held
    // data and goes back to the kernel as any page)
    next = (a + HEAP_PAGE - 1) & ~(HEAP_PAGE - 1);
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
  uintptr_t a = (uintptr_t)addr;
  if (prot == (PROT_READ | PROT_WRITE) && in_arena(a, len)) {
    // commit the rest of the page's 2 MB chunk with it, so that its first touch takes a huge page
    pthread_mutex_lock(&lock);
    last_fresh = 0;
    uintptr_t chunk_end = (a + len + CHUNK - 1) & ~(CHUNK - 1);
    if (chunk_end > arena_end) chunk_end = arena_end;
    uintptr_t from = writable_end > a + len ? writable_end : a + len;
    if (chunk_end > from && syscall(SYS_mprotect, (void *)from, chunk_end - from, prot) == 0) writable_end = chunk_end;
    pthread_mutex_unlock(&lock);
  }
  return syscall(SYS_mprotect, addr, len, prot);
}
