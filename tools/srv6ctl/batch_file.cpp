#include "batch_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "srv6/config.hpp"

namespace srv6::cli {

BatchFile::BatchFile(const std::string& path) {
  bool std_in = path == "-";
  int fd = std_in ? STDIN_FILENO : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot read " + path);
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    // From the current offset, as a read would (stdin may be a file read in part).
    off_t at = std_in ? lseek(fd, 0, SEEK_CUR) : 0;
    if (at >= 0 && at < st.st_size) {
      map_size_ = st.st_size;
      void* m = mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (m != MAP_FAILED) {
        map_ = m;
        text_ = std::string_view(static_cast<const char*>(m) + at, map_size_ - at);
      }
    }
  }
  if (!map_) {
    char buf[1 << 16];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        if (!std_in) close(fd);
        throw Error("cannot read " + path);
      }
      if (n == 0) break;
      read_.append(buf, n);
    }
    text_ = read_;
  }
  if (!std_in) close(fd);
}

BatchFile::~BatchFile() {
  if (map_) munmap(map_, map_size_);
}

}  // namespace srv6::cli
