// srv6d: the datapath's daemon. Today it keeps the forwarding cache true
// (srv6::FibWatch) for one instance and renews its lease, follows the
// devices' xdp-features and the router's own addresses; without it the
// datapath asks the FIB for every packet, redirects only to devices the
// operator vouched for, and knows the addresses of the last srv6ctl change. Runs in the foreground (systemd
// style); SIGINT/SIGTERM end the lease and exit.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "srv6/fib_watch.hpp"
#include "srv6/instance.hpp"
#include "srv6/netns.hpp"

namespace {

const char* kUsage =
    "usage: srv6d [-n NETNS] [--instance NAME]\n"
    "Keeps the forwarding cache of the instance (default \"default\") of this\n"
    "network namespace (or /run/netns/NETNS) true while it runs.\n";

struct Args {
  std::string netns, instance = "default";
};

// Returns false after printing the refusal.
bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; i++) {
    std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if ((k == "-n" || k == "--netns" || k == "--instance") && i + 1 < argc) {
      (k == "--instance" ? a.instance : a.netns) = argv[++i];
      continue;
    }
    std::fprintf(stderr, "srv6d: %s: %s\n%s", k.c_str(),
                 i + 1 < argc || k[0] != '-' ? "unknown argument" : "needs a value", kUsage);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse(argc, argv, args)) return 2;
  try {
    if (!args.netns.empty()) srv6::enter_netns(args.netns);
    srv6::Instance::set_wait_notice([](const std::string& m) { std::fprintf(stderr, "srv6d: %s\n", m.c_str()); });
    auto inst = srv6::Instance::open(args.instance);
    srv6::FibWatch watch(inst);

    boost::asio::io_context io;
    boost::asio::steady_timer timer(io);
    std::function<void()> beat = [&] {
      watch.beat();
      try {
        inst.sync_sysctls();  // seg6_flowlabel has no announcement: followed each beat
      } catch (const std::exception& e) {
        std::fprintf(stderr, "srv6d: %s\n", e.what());
      }
      timer.expires_after(srv6::FibWatch::kBeat);
      timer.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) beat();
      });
    };
    // The router's own addresses follow the kernel's local table.
    auto sync_local = [&] {
      try {
        inst.sync_local();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "srv6d: local addresses: %s\n", e.what());
      }
    };
    sync_local();
    boost::asio::posix::stream_descriptor announcements(io, ::dup(watch.fd()));
    std::function<void()> follow = [&] {
      announcements.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [&](const boost::system::error_code& ec) {
                                 if (ec) return;
                                 if (watch.local_changed()) sync_local();
                                 follow();
                               });
    };
    follow();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    beat();
    std::printf("srv6d: watching routes for instance %s (%s)\n", args.instance.c_str(),
                inst.pin_dir().c_str());
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "srv6d: %s\n", e.what());
    return 1;
  }
  return 0;
}
