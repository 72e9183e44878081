#include "srv6/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
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

uint64_t current_netns_cookie() {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(std::string("cannot open a socket: ") + std::strerror(errno));
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
  int rc = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    throw Error(std::string("cannot read the network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): ") +
                std::strerror(err));
  return cookie;
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
