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
// shareSnapshotCopy(pagesFile): node reads the start-up snapshot's file (`--snapshot-blob`) and
// keeps a malloc'd copy of its V8 part (3.8 MB for ig's blob) for the whole run, all of it
// resident. pagesFile (written beside the blob by scripts/build-snapshot.mjs) holds those bytes
// laid out as the copy is in memory, page for page. Where resident anonymous pages are equal,
// byte for byte, to the file's pages (found by the file's second page), they are replaced by a private mapping of the file
// (mmap MAP_FIXED): same contents, same protection, but backed by the page cache, so not
// resident until read again (a read faults the page back from the file; a write would copy it).
// The first and last pages (malloc's chunk header, the tail) stay as they are; a copy that does
// not match the file (another node, another layout) is left alone.
//
// releaseUnusedMemory(trim = true, pagesFile?, dropFilePages = true) does all three (each only when asked) on a
// thread of its own, so the JS thread is not held for the few milliseconds it takes; dropCleanFilePages() and
// shareSnapshotCopy() are the synchronous parts (tests).
#include "common.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <string>

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

// Reads this process's memory without faulting: the pages looked at belong to other threads (a
// buffer the main thread frees meanwhile is unmapped under us), so a plain read could crash the
// process; process_vm_readv says EFAULT instead.
bool ReadOwnMemory(void* dst, const void* src, size_t len) {
  iovec local{dst, len};
  iovec remote{const_cast<void*>(src), len};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

// How many of the pages from `first` on are equal in memory and in the file. The file is read
// through a small window mapped in turn, the memory copied out a window at a time (never more
// than 64 of the file's pages resident here).
size_t EqualPages(int fd, const unsigned char* mem, size_t first, size_t last, size_t page) {
  constexpr size_t kWindow = 64;
  std::vector<unsigned char> copy(kWindow * page);
  size_t k = first;
  while (k < last) {
    size_t n = std::min(kWindow, last - k);
    if (!ReadOwnMemory(copy.data(), mem + k * page, n * page)) return 0;
    void* w = mmap(nullptr, n * page, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(k * page));
    if (w == MAP_FAILED) return 0;
    bool same = memcmp(w, copy.data(), n * page) == 0;
    munmap(w, n * page);
    if (!same) return 0;
    k += n;
  }
  return k - first;
}

size_t ShareSnapshotCopy(const std::string& pagesFile) {
  int fd = open(pagesFile.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  struct stat st;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  unsigned char probe[64];
  size_t shared = 0;
  bool usable = pagemap >= 0 && fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(4 * page) &&
                pread(fd, probe, sizeof probe, static_cast<off_t>(page)) == static_cast<ssize_t>(sizeof probe);
  FILE* maps = usable ? fopen("/proc/self/maps", "re") : nullptr;
  if (maps != nullptr) {
    // the copy's pages 1 .. n-2 (page 0 holds malloc's chunk header, the last one the tail)
    const size_t n = (static_cast<size_t>(st.st_size) + page - 1) / page;
    std::vector<uint64_t> entries;
    char line[4096];
    while (shared == 0 && fgets(line, sizeof line, maps) != nullptr) {
      unsigned long start, end, offset, inode;
      char perms[8] = {0};
      if (sscanf(line, "%lx-%lx %7s %lx %*s %lu", &start, &end, perms, &offset, &inode) != 5) continue;
      // anonymous and read-write (the kernel may have merged the copy's mapping with its neighbours)
      if (inode != 0 || strcmp(perms, "rw-p") != 0 || end - start < n * page) continue;
      const size_t count = (end - start) / page;
      entries.resize(count);
      if (pread(pagemap, entries.data(), count * sizeof(uint64_t), static_cast<off_t>(start / page * sizeof(uint64_t))) !=
          static_cast<ssize_t>(count * sizeof(uint64_t)))
        continue;
      // where a resident page starts as the file's page 1 does, and every page after it matches
      for (size_t i = 1; i + n - 1 <= count; i++) {
        const auto* at = reinterpret_cast<const unsigned char*>(start + i * page);
        unsigned char head[sizeof probe];
        if (!(entries[i] & kPresent) || !ReadOwnMemory(head, at, sizeof head) || memcmp(head, probe, sizeof probe) != 0) continue;
        const auto* base = at - page;
        if (EqualPages(fd, base, 1, n - 1, page) != n - 2) continue;
        void* mapped = mmap(const_cast<unsigned char*>(at), (n - 2) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                            static_cast<off_t>(page));
        if (mapped != MAP_FAILED) shared = (n - 2) * page;
        break;
      }
    }
    fclose(maps);
  }
  if (pagemap >= 0) close(pagemap);
  close(fd);
  return shared;
}

}  // namespace

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("dropCleanFilePages", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(DropCleanFilePages()));
  }, "dropCleanFilePages"));
  exports.Set("shareSnapshotCopy", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(ShareSnapshotCopy(info[0].As<Napi::String>().Utf8Value())));
  }, "shareSnapshotCopy"));
  exports.Set("releaseUnusedMemory", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    // a flag is on unless given as false
    auto flag = [&](size_t i) { return !(info.Length() > i && info[i].IsBoolean() && !info[i].As<Napi::Boolean>().Value()); };
    bool trim = flag(0);
    std::string pagesFile = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    bool drop = flag(2);
    try {
      std::thread([trim, pagesFile, drop] {
        if (!pagesFile.empty()) ShareSnapshotCopy(pagesFile);
        if (drop) DropCleanFilePages();
        if (trim) malloc_trim(0);
      }).detach();
    } catch (const std::system_error&) {
      // no thread to spare: memory stays as it is, nothing else depends on it
    }
    return info.Env().Undefined();
  }, "releaseUnusedMemory"));
}

}  // namespace ig
