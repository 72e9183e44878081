#include "srv6/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "srv6/config.hpp"

namespace srv6 {

uint64_t current_netns_inode() {
  struct stat st {};
  if (stat("/proc/thread-self/ns/net", &st) != 0)
    throw Error(std::string("cannot read network namespace: ") + std::strerror(errno));
  return st.st_ino;
}

void enter_netns(const std::string& name) {
  std::string path = name.find('/') == std::string::npos ? "/run/netns/" + name : name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error("network namespace " + name + ": " + std::strerror(errno));
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    throw Error("cannot enter network namespace " + name + ": " + std::strerror(err));
}

}  // namespace srv6
