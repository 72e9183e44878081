// The loader's instance semantics: pinned maps survive the process that
// made them, each network namespace has its own instances, and a refused
// change leaves the tables as they were. Each test runs in a fresh network
// namespace of its own (a forked child), so pins never collide.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "srv6/instance.hpp"
#include "srv6/netns.hpp"

namespace {

using srv6::Instance;

srv6::SidConfig end_sid(const char* sid) {
  return {.sid = srv6::parse_prefix6(sid), .action = SRV6_ACTION_END};
}

// Runs body in a child process inside a new network namespace; the child's
// gtest failures become its exit code.
void in_new_netns(const std::function<void()>& body) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(3);
    int rc = 0;
    try {
      body();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "exception: " << e.what();
    }
    rc = ::testing::Test::HasFailure() ? 1 : 0;
    // whatever the body left: every pin of this namespace is the test's
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(Instance::pin_dir_for("x")).parent_path(), ec);
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "child crashed";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's failures above";
}

TEST(Instance, PinnedTablesOutliveTheInstanceObject) {
  in_new_netns([] {
    {
      auto inst = Instance::open("t1");
      inst.add_sid(end_sid("fc00::1"));
      inst.add_policy({srv6::parse_prefix("10.0.0.0/8"), SRV6_ENCAP, {srv6::parse_addr6("fc00::1")}, {}});
    }
    auto again = Instance::open("t1");  // a new process would see the same
    ASSERT_EQ(again.sids().size(), 1u);
    EXPECT_EQ(srv6::format_prefix6(again.sids()[0].config.sid), "fc00::1/128");
    ASSERT_EQ(again.policies().size(), 1u);
    EXPECT_EQ(again.policies()[0].config.segs.size(), 1u);
    // loading the programs reuses the pinned maps rather than replacing them
    EXPECT_GE(again.xdp_prog_fd(), 0);
    EXPECT_EQ(again.sids().size(), 1u);
    again.destroy();
    EXPECT_FALSE(std::filesystem::exists(again.pin_dir()));
  });
}

TEST(Instance, NamespacesAndNamesDoNotShareTables) {
  std::string dir_a;
  in_new_netns([&] {
    auto a = Instance::open();
    a.add_sid(end_sid("fc00::a"));
    auto other = Instance::open("other");
    EXPECT_TRUE(other.sids().empty()) << "instances in one namespace are separate";
    EXPECT_NE(a.pin_dir(), other.pin_dir());
    in_new_netns([&] {
      auto b = Instance::open();
      EXPECT_NE(b.pin_dir(), a.pin_dir()) << "the pin path names the namespace";
      EXPECT_TRUE(b.sids().empty()) << "another namespace starts empty";
      b.destroy();
    });
    other.destroy();
    a.destroy();
  });
}

TEST(Instance, RefusedChangesLeaveTablesUnchanged) {
  in_new_netns([] {
    auto inst = Instance::open("t3");
    inst.add_sid({.sid = srv6::parse_prefix6("fc00::7"), .action = SRV6_ACTION_END_T, .table = 100});
    // duplicate, invalid attributes, deleting what is not there
    EXPECT_THROW(inst.add_sid(end_sid("fc00::7")), srv6::Error);
    EXPECT_THROW(inst.add_sid({.sid = srv6::parse_prefix6("fc00::8"), .action = SRV6_ACTION_END_X}), srv6::Error);
    EXPECT_THROW(inst.del_sid(srv6::parse_prefix6("fc00::9")), srv6::Error);
    std::vector<srv6::Addr6> seventeen(17, srv6::parse_addr6("fc00::1"));
    EXPECT_THROW(inst.add_policy({srv6::parse_prefix("10.0.0.0/8"), SRV6_ENCAP, seventeen, {}}), srv6::Error);
    auto sids = inst.sids();
    ASSERT_EQ(sids.size(), 1u);
    EXPECT_EQ(sids[0].config.action, SRV6_ACTION_END_T);
    EXPECT_EQ(sids[0].config.table, 100u);
    EXPECT_TRUE(inst.policies().empty());
    inst.destroy();
  });
}

TEST(Instance, DeleteThenAddStartsCountersFromZero) {
  in_new_netns([] {
    auto inst = Instance::open("t4");
    inst.add_sid(end_sid("fc00::1"));
    inst.add_sid(end_sid("fc00::2"));
    inst.del_sid(srv6::parse_prefix6("fc00::1"));
    inst.add_sid(end_sid("fc00::3"));  // takes the freed counter slot
    for (auto& s : inst.sids()) EXPECT_EQ(s.counters.packets + s.counters.bytes + s.counters.errors, 0u);
    EXPECT_EQ(inst.sids().size(), 2u);
    inst.destroy();
  });
}

TEST(Instance, BatchIsAllOrNothing) {
  in_new_netns([] {
    auto inst = Instance::open("t6");
    inst.add_sid(end_sid("fc00::1"));
    std::vector<srv6::Change> batch = {
        srv6::AddSid{end_sid("fc00::2")},
        srv6::AddPolicy{{srv6::parse_prefix("10.0.0.0/8"), SRV6_ENCAP, {srv6::parse_addr6("fc00::2")}, {}}},
        srv6::AddSid{end_sid("fc00::1")},  // exists: refuses the whole batch
    };
    try {
      inst.apply(batch);
      ADD_FAILURE() << "a batch with a duplicate was applied";
    } catch (const srv6::BatchError& e) {
      EXPECT_EQ(e.index, 2u);
      EXPECT_NE(std::string(e.what()).find("fc00::1/128 exists"), std::string::npos) << e.what();
    }
    EXPECT_EQ(inst.sids().size(), 1u);
    EXPECT_TRUE(inst.policies().empty());

    // within one batch: delete, then add the same SID again; add, then delete
    inst.apply({srv6::DelSid{srv6::parse_prefix6("fc00::1")},
                srv6::AddSid{{.sid = srv6::parse_prefix6("fc00::1"), .action = SRV6_ACTION_END_T, .table = 7}},
                srv6::AddSid{end_sid("fc00::3")}, srv6::DelSid{srv6::parse_prefix6("fc00::3")}});
    auto sids = inst.sids();
    ASSERT_EQ(sids.size(), 1u);
    EXPECT_EQ(sids[0].config.action, SRV6_ACTION_END_T);
    EXPECT_EQ(sids[0].config.table, 7u);
    // deleting what the batch deleted already is refused
    EXPECT_THROW(inst.apply({srv6::DelSid{srv6::parse_prefix6("fc00::1")},
                             srv6::DelSid{srv6::parse_prefix6("fc00::1")}}),
                 srv6::BatchError);
    EXPECT_EQ(inst.sids().size(), 1u);
    inst.destroy();
  });
}

TEST(Instance, CapacityIsSetWhenCreated) {
  in_new_netns([] {
    auto inst = Instance::open("t7", {.sids = 1000, .policies = 2});
    EXPECT_EQ(inst.sid_capacity(), 1000u);
    EXPECT_EQ(inst.policy_capacity(), 2u);
    auto again = Instance::open("t7", {.sids = 5});  // an existing instance keeps its sizes
    EXPECT_EQ(again.sid_capacity(), 1000u);
    EXPECT_GE(again.xdp_prog_fd(), 0);  // the programs load against the sized maps
    auto pol = [](const char* p) {
      return srv6::PolicyConfig{srv6::parse_prefix(p), SRV6_ENCAP, {srv6::parse_addr6("fc00::1")}, {}};
    };
    again.add_policy(pol("10.1.0.0/16"));
    again.add_policy(pol("10.2.0.0/16"));
    try {
      again.add_policy(pol("10.3.0.0/16"));
      ADD_FAILURE() << "a third policy fit in a table of 2";
    } catch (const srv6::Error& e) {
      EXPECT_NE(std::string(e.what()).find("table full"), std::string::npos) << e.what();
    }
    EXPECT_EQ(Instance::open("default").sid_capacity(), uint32_t(SRV6_MAX_SIDS));
    Instance::open("default").destroy();
    again.destroy();
  });
}

TEST(Instance, RefusesAMissingDevice) {
  in_new_netns([] {
    auto inst = Instance::open("t5");
    try {
      inst.attach("nosuchdev0", srv6::Hook::Xdp);
      ADD_FAILURE() << "attach to a missing device succeeded";
    } catch (const srv6::Error& e) {
      EXPECT_NE(std::string(e.what()).find("nosuchdev0"), std::string::npos) << e.what();
    }
    inst.destroy();
  });
}

}  // namespace
