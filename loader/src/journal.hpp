// A batch's undo journal (journal.cpp): what each key held before the
// batch, pinned as map "journal" in the instance's directory before the
// first write and unpinned once the last one went in. A journal found
// pinned is the trace of a writer that died midway; the next writer, under
// the instance lock, puts every key back as it was, so a batch killed at
// any point leaves the tables as they were before it or after it.
#pragma once

#include <string>
#include <vector>

#include "batch_plan.hpp"

namespace srv6::detail {

class Journal {
 public:
  // Records, in batch order, the state of each key before the first change
  // to it: absent, or the entry a deletion takes out.
  void absent(const Key& key);
  void entry(const Key& key, const Old& old);
  // Pins it in dir (atomically: the pin appears whole or not at all).
  void pin(const std::string& dir) const;

  static bool pending(const std::string& dir);
  // Puts every recorded key back, last first, then unpins the journal;
  // returns how many could not be put back (the journal then stays). A
  // deletion of a key that is not there counts as done.
  static size_t roll_back(const std::string& dir, const int* fds);
  static void commit(const std::string& dir);

 private:
  std::vector<uint8_t> bytes_;
  uint32_t count_ = 0;
};

}  // namespace srv6::detail
