// Resident memory the process holds but no longer uses, given back to the kernel.
//
// dropCleanFilePages(): RSS counts every page of a file mapping that the process's page table
// maps, and a page fault maps the neighbouring pages the page cache holds too (fault-around).
// Node's 90 MB binary (V8, its start-up snapshot, ICU's data, OpenSSL, the dynamic symbol
// tables) is ~30 MB resident in a bare `node -e 0` and ~40 MB once ig has started, most of it
// start-up code and data never touched again. MADV_DONTNEED unmaps such pages from this process
// only: the page cache keeps them, and a page used again comes back through a minor fault.
// Only private, read-only file mappings, and in them only pages still backed by the file:
// a page copied on write (the relocated RELRO data, a debugger's breakpoint) is anonymous and
// its contents would be lost, so /proc/self/pagemap is asked page by page and such pages stay.
//
// Then malloc_trim(0): glibc keeps freed memory in its arenas (libbpf's parse of the kernel BTF,
// V8's compiler zones) and this gives the free pages of every arena back.
//
// releaseUnusedMemory(trim = true) does both (the trim only when asked) on a thread of its own, so the JS thread is not held for the
// few milliseconds it takes; dropCleanFilePages() is the synchronous first half (tests).
#include "common.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

namespace ig {

namespace {

constexpr uint64_t kPresent = 1ULL << 63;
constexpr uint64_t kFileOrShared = 1ULL << 61;

size_t DropCleanFilePages() {
  FILE* maps = fopen("/proc/self/maps", "re");
  if (maps == nullptr) return 0;
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) {
    fclose(maps);
    return 0;
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t dropped = 0;
  std::vector<uint64_t> entries;
  char line[4096];
  while (fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start, end;
    char perms[8] = {0};
    int pathAt = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &pathAt) != 3 || pathAt == 0) continue;
    // private, read-only, a file (not [vdso], [stack] or an anonymous mapping)
    if (line[pathAt] != '/' || perms[1] != '-' || perms[3] != 'p' || end <= start) continue;
    size_t n = (end - start) / page;
    entries.resize(n);
    ssize_t got = pread(pagemap, entries.data(), n * sizeof(uint64_t), static_cast<off_t>(start / page * sizeof(uint64_t)));
    if (got != static_cast<ssize_t>(n * sizeof(uint64_t))) continue;
    // drop each run of pages that are resident and still the file's own
    size_t i = 0;
    while (i < n) {
      uint64_t e = entries[i];
      if (!(e & kPresent) || !(e & kFileOrShared)) {
        i++;
        continue;
      }
      size_t j = i;
      while (j < n && (entries[j] & kPresent) && (entries[j] & kFileOrShared)) j++;
      if (madvise(reinterpret_cast<void*>(start + i * page), (j - i) * page, MADV_DONTNEED) == 0) dropped += (j - i) * page;
      i = j;
    }
  }
  close(pagemap);
  fclose(maps);
  return dropped;
}

}  // namespace

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("dropCleanFilePages", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(DropCleanFilePages()));
  }, "dropCleanFilePages"));
  exports.Set("releaseUnusedMemory", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    bool trim = !(info.Length() > 0 && info[0].IsBoolean() && !info[0].As<Napi::Boolean>().Value());
    try {
      std::thread([trim] {
        DropCleanFilePages();
        if (trim) malloc_trim(0);
      }).detach();
    } catch (const std::system_error&) {
      // no thread to spare: memory stays as it is, nothing else depends on it
    }
    return info.Env().Undefined();
  }, "releaseUnusedMemory"));
}

}  // namespace ig
