// The text of a batch file (srv6ctl -b FILE; "-" is standard input).
#pragma once

#include <string>
#include <string_view>

namespace srv6::cli {

// A regular file is mapped, not copied: a million-line batch is 40 MB, and
// fresh pages cost more than parsing them. Pipes and terminals are read.
class BatchFile {
 public:
  explicit BatchFile(const std::string& path);  // throws Error "cannot read PATH"
  ~BatchFile();
  BatchFile(const BatchFile&) = delete;
  BatchFile& operator=(const BatchFile&) = delete;

  std::string_view text() const { return text_; }

 private:
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::string read_;  // what was read, when not mapped
  std::string_view text_;
};

}  // namespace srv6::cli
