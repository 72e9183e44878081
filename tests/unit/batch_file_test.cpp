// srv6ctl -b FILE's reader: regular files are mapped, standard input is
// read (from where it stands when it is a file), and a missing file is
// refused by name.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "batch_file.hpp"
#include "srv6/config.hpp"

using srv6::cli::BatchFile;

namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/srv6-batch-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs f with fd as standard input.
template <typename F>
void with_stdin(int fd, F&& f) {
  int saved = dup(STDIN_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(dup2(fd, STDIN_FILENO), 0);
  f();
  dup2(saved, STDIN_FILENO);
  close(saved);
}

}  // namespace

TEST(BatchFile, RegularFile) {
  std::string text = "sid add fc00::1 action End\n# no newline at the end";
  TempFile f(text);
  EXPECT_EQ(BatchFile(f.path()).text(), text);
  TempFile empty("");
  EXPECT_EQ(BatchFile(empty.path()).text(), "");
}

TEST(BatchFile, Missing) {
  try {
    BatchFile("/nonexistent/batch");
    ADD_FAILURE() << "a missing file was read";
  } catch (const srv6::Error& e) {
    EXPECT_STREQ(e.what(), "cannot read /nonexistent/batch");
  }
  try {
    BatchFile("/tmp");  // a directory: open works, read does not
    ADD_FAILURE() << "a directory was read";
  } catch (const srv6::Error& e) {
    EXPECT_STREQ(e.what(), "cannot read /tmp");
  }
}

TEST(BatchFile, StdinPipe) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  std::string text(200000, 'x');  // more than one read, more than the pipe holds
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(p[0]);
    for (size_t off = 0; off < text.size();) {
      ssize_t n = write(p[1], text.data() + off, text.size() - off);
      if (n <= 0) _exit(1);
      off += n;
    }
    _exit(0);
  }
  close(p[1]);
  with_stdin(p[0], [&] { EXPECT_EQ(BatchFile("-").text(), text); });
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
}

TEST(BatchFile, StdinFileFromItsOffset) {
  TempFile f("skipped\nsid del fc00::1\n");
  int fd = open(f.path().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(lseek(fd, 8, SEEK_SET), 8);
  with_stdin(fd, [&] { EXPECT_EQ(BatchFile("-").text(), "sid del fc00::1\n"); });
  ASSERT_EQ(lseek(fd, 0, SEEK_END), 24);  // at the end: nothing left
  with_stdin(fd, [&] { EXPECT_EQ(BatchFile("-").text(), ""); });
  close(fd);
}
