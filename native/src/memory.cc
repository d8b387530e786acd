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

#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
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

// Whether the `len` bytes of memory at `mem` are those of the file from `offset` on. Both are copied
// out a window at a time with reads (pread, process_vm_readv), not mapped: an mmap here would take
// the address space's lock for writing, and the JS thread's page faults wait for it while it starts.
bool SameBytes(int fd, off_t offset, const unsigned char* mem, size_t len) {
  constexpr size_t kChunk = 256 * 1024;
  std::vector<unsigned char> inMemory(std::min(kChunk, len)), inFile(std::min(kChunk, len));
  for (size_t done = 0; done < len;) {
    size_t n = std::min(kChunk, len - done);
    if (!ReadOwnMemory(inMemory.data(), mem + done, n) ||
        pread(fd, inFile.data(), n, offset + static_cast<off_t>(done)) != static_cast<ssize_t>(n) || memcmp(inMemory.data(), inFile.data(), n) != 0)
      return false;
    done += n;
  }
  return true;
}

// Maps `fd` (file offset k * page for memory page base + k * page) over pages first .. last-1 of
// the memory at `base`, once every one of them is equal to the file's; returns the bytes mapped.
size_t MapFileOver(int fd, const unsigned char* base, size_t first, size_t last, size_t page) {
  if (last <= first || !SameBytes(fd, static_cast<off_t>(first * page), base + first * page, (last - first) * page)) return 0;
  void* at = const_cast<unsigned char*>(base + first * page);
  void* mapped = mmap(at, (last - first) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, static_cast<off_t>(first * page));
  return mapped == MAP_FAILED ? 0 : (last - first) * page;
}

// Calls `visit(start, end, entries)` for each anonymous read-write mapping of at least `minSize`
// bytes (the kernel may have merged a block's mapping with its neighbours), `entries` its pagemap
// entries, until `visit` returns true.
template <typename Visit>
void ForEachAnonymousMapping(int pagemap, size_t page, size_t minSize, Visit visit) {
  FILE* maps = fopen("/proc/self/maps", "re");
  if (maps == nullptr) return;
  std::vector<uint64_t> entries;
  char line[4096];
  while (fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start, end, offset, inode;
    char perms[8] = {0};
    if (sscanf(line, "%lx-%lx %7s %lx %*s %lu", &start, &end, perms, &offset, &inode) != 5) continue;
    if (inode != 0 || strcmp(perms, "rw-p") != 0 || end - start < minSize) continue;
    const size_t count = (end - start) / page;
    entries.resize(count);
    if (pread(pagemap, entries.data(), count * sizeof(uint64_t), static_cast<off_t>(start / page * sizeof(uint64_t))) !=
        static_cast<ssize_t>(count * sizeof(uint64_t)))
      continue;
    if (visit(static_cast<uintptr_t>(start), static_cast<uintptr_t>(end), entries)) break;
  }
  fclose(maps);
}

// Node's copy in a block malloc mapped on its own: the data 16 bytes into its first page, as in
// the page image. Found by the image's second page at the start of a resident page.
size_t ShareAlignedCopy(int fd, size_t fileSize, int pagemap, size_t page) {
  unsigned char probe[64];
  if (pread(fd, probe, sizeof probe, static_cast<off_t>(page)) != static_cast<ssize_t>(sizeof probe)) return 0;
  // the copy's pages 1 .. n-2 (page 0 holds malloc's chunk header, the last one the tail)
  const size_t n = (fileSize + page - 1) / page;
  size_t shared = 0;
  ForEachAnonymousMapping(pagemap, page, n * page, [&](uintptr_t start, uintptr_t, const std::vector<uint64_t>& entries) {
    // where a resident page starts as the file's page 1 does, and every page after it matches
    for (size_t i = 1; i + n - 1 <= entries.size(); i++) {
      const auto* at = reinterpret_cast<const unsigned char*>(start + i * page);
      unsigned char head[sizeof probe];
      if (!(entries[i] & kPresent) || !ReadOwnMemory(head, at, sizeof head) || memcmp(head, probe, sizeof probe) != 0) continue;
      shared = MapFileOver(fd, at - page, 1, n - 1, page);
      return true;
    }
    return false;
  });
  return shared;
}

// Where the copy's data starts when malloc placed it anywhere (in its heap, with
// glibc.malloc.mmap_threshold raised, bin/ig): the data's first bytes (V8's snapshot header with
// its checksum) at a 16-byte boundary of a resident anonymous mapping, and all of the data after
// them (the block node read the blob into, freed by now, may still hold the same first bytes).
// Only resident pages are read, a window at a time; 0 when not found.
uintptr_t FindCopy(int image, const unsigned char* head, size_t headLen, size_t size, int pagemap, size_t page) {
  constexpr size_t kWindow = 256;  // pages
  std::vector<unsigned char> buf(kWindow * page + headLen);
  uintptr_t found = 0;
  ForEachAnonymousMapping(pagemap, page, size, [&](uintptr_t start, uintptr_t end, const std::vector<uint64_t>& entries) {
    const size_t count = entries.size();
    for (size_t i = 0; i < count && found == 0;) {
      if (!(entries[i] & kPresent)) {
        i++;
        continue;
      }
      size_t j = i;
      while (j < count && j - i < kWindow && (entries[j] & kPresent)) j++;
      // the window's pages, and the head's length more when the next page is resident too
      size_t len = (j - i) * page;
      if (j < count && (entries[j] & kPresent)) len += headLen;
      const auto* from = reinterpret_cast<const unsigned char*>(start + i * page);
      if (ReadOwnMemory(buf.data(), from, len)) {
        for (size_t k = 0; k + headLen <= len && found == 0;) {
          const void* hit = memmem(buf.data() + k, len - k, head, headLen);
          if (hit == nullptr) break;
          size_t at = static_cast<const unsigned char*>(hit) - buf.data();
          uintptr_t addr = reinterpret_cast<uintptr_t>(from) + at;
          if (addr % 16 == 0 && addr + size <= end && SameBytes(image, 16, reinterpret_cast<const unsigned char*>(addr), size)) found = addr;
          k = at + 1;
        }
      }
      i = j;
    }
    return found != 0;
  });
  return found;
}

// The page image for a copy whose data starts `offset` bytes into a page: folder/HASH-OFFSET (HASH:
// of the data's first bytes, which differ from blob to blob), written from the page image once and
// kept, so later runs with the same layout share it. At most kKept per blob, the least recently
// used removed. -1 when it cannot be opened or written.
int OffsetImage(const std::string& folder, int image, size_t imageSize, const unsigned char* head, size_t offset) {
  constexpr size_t kKept = 8;
  // FNV-1a of the data's first 64 bytes (V8's header: its checksum and version), to tell blobs apart
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < 64; i++) h = (h ^ head[i]) * 1099511628211ULL;
  char prefix[40];
  snprintf(prefix, sizeof prefix, "%016llx-", static_cast<unsigned long long>(h));
  const std::string name = folder + "/" + prefix + std::to_string(offset);
  int fd = open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  // only an image this user wrote and nobody else may write: its pages are compared before they are
  // mapped, but a page is read from the file again whenever it is faulted back in
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 022) == 0 &&
      static_cast<size_t>(st.st_size) == imageSize - 16 + offset) {
    futimens(fd, nullptr);  // recently used
    return fd;
  }
  if (fd >= 0) close(fd);
  mkdir(folder.c_str(), 0700);
  const std::string tmp = name + "." + std::to_string(getpid()) + ".tmp";
  int out = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) return -1;
  // `offset` bytes, then the data (the page image holds it from byte 16 on)
  std::vector<unsigned char> chunk(1 << 20);
  bool ok = ftruncate(out, static_cast<off_t>(offset)) == 0 && lseek(out, static_cast<off_t>(offset), SEEK_SET) >= 0;
  for (off_t from = 16; ok && static_cast<size_t>(from) < imageSize;) {
    ssize_t got = pread(image, chunk.data(), chunk.size(), from);
    ok = got > 0 && write(out, chunk.data(), static_cast<size_t>(got)) == got;
    from += got > 0 ? got : 0;
  }
  ok = ok && rename(tmp.c_str(), name.c_str()) == 0;
  if (!ok) {
    close(out);
    unlink(tmp.c_str());
    return -1;
  }
  // keep the kKept most recently used images of this blob
  if (DIR* dir = opendir(folder.c_str())) {
    // newest first, the one just written before all
    std::vector<std::pair<std::pair<time_t, long>, std::string>> images;
    const std::string self = name.substr(folder.size() + 1);
    while (dirent* e = readdir(dir)) {
      std::string n = e->d_name;
      struct stat es;
      if (n.rfind(prefix, 0) == 0 && n.find(".tmp") == std::string::npos && stat((folder + "/" + n).c_str(), &es) == 0)
        images.push_back({n == self ? std::make_pair(std::numeric_limits<time_t>::max(), 0L) : std::make_pair(es.st_mtim.tv_sec, es.st_mtim.tv_nsec), n});
    }
    closedir(dir);
    std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = kKept; i < images.size(); i++) unlink((folder + "/" + images[i].second).c_str());
  }
  // the file written here, whatever the name points to by now
  return out;
}

size_t ShareSnapshotCopy(const std::string& pagesFile, const std::string& offsetImages) {
  int fd = open(pagesFile.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  struct stat st;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t shared = 0;
  if (pagemap >= 0 && fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(4 * page)) {
    const size_t fileSize = static_cast<size_t>(st.st_size);
    shared = ShareAlignedCopy(fd, fileSize, pagemap, page);
    unsigned char head[64];
    uintptr_t at = 0;
    if (shared == 0 && !offsetImages.empty() && pread(fd, head, sizeof head, 16) == static_cast<ssize_t>(sizeof head))
      at = FindCopy(fd, head, sizeof head, fileSize - 16, pagemap, page);
    if (at != 0 && at % page != 16) {
      int image = OffsetImage(offsetImages, fd, fileSize, head, at % page);
      if (image >= 0) {
        // memory page base + k * page holds what the image holds at k * page
        const auto* base = reinterpret_cast<const unsigned char*>(at - at % page);
        const size_t last = (at + fileSize - 16) / page - (at - at % page) / page;
        shared = MapFileOver(image, base, 1, last, page);
        close(image);
      }
    }
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
    std::string images = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    return Napi::Number::New(info.Env(), static_cast<double>(ShareSnapshotCopy(info[0].As<Napi::String>().Utf8Value(), images)));
  }, "shareSnapshotCopy"));
  exports.Set("releaseUnusedMemory", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    // a flag is on unless given as false
    auto flag = [&](size_t i) { return !(info.Length() > i && info[i].IsBoolean() && !info[i].As<Napi::Boolean>().Value()); };
    bool trim = flag(0);
    std::string pagesFile = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    bool drop = flag(2);
    std::string images = info.Length() > 3 && info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
    try {
      std::thread([trim, pagesFile, drop, images] {
        if (!pagesFile.empty()) ShareSnapshotCopy(pagesFile, images);
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
