// Per-packet cost of the XDP program, from BPF_PROG_TEST_RUN's repeat loop
// over the packet test cases (the katran tester's perf mode). Each run goes
// through tools/bench/restore.bpf.c, which puts the original frame back
// before tail-calling the datapath; the same loop with a do-nothing target
// is measured alongside and subtracted. Medians of interleaved runs.
//
// The same loop runs tools/bench/ceiling.bpf.c on the same frames: the least
// an XDP router does (parse Ethernet and IPv6 or IPv4, rewrite the MACs,
// redirect to a fixed egress). ratio = srv6_ns / base_ns is what our SRv6
// work costs against that baseline (the throughput benchmark's (d) variant).
//
// srv6_ns is measured with the forwarding cache on (a watcher leases it, as
// srv6d does: the repeats are served from it), fib_ns with it off (one
// bpf_fib_lookup per packet), interleaved.
//
//   packet_perf [-n REPEAT] [-r ROUNDS] [--entries N] [--min] [CASE ...]
//
// --min reports the minimum over the rounds instead of the median: on a
// shared machine noise only adds, and minima of one binary agree across
// runs where medians drift.
// --entries N first fills the SID table and both policy tables with N
// entries each besides the fixture's (/128 SIDs in fc00:f000::/20, /64
// policies in 2001:db8:f000::/36, /32 policies in 11.0.0.0/8), to see the
// lookups' cost at scale.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_ceiling.skel.h"
#include "bench_restore.skel.h"
#include "cases.hpp"
#include "net_fixture.hpp"
#include "srv6/fib_watch.hpp"

namespace {

struct Template {
  uint32_t len;
  uint8_t data[1024];
};

// Mean ns per repetition of one test run.
double run_ns(int prog_fd, const pkt::Bytes& in, uint32_t repeat, int* verdict) {
  xdp_md ctx{};
  ctx.ingress_ifindex = srv6::ifindex_of(fixture::kIn);
  ctx.data_end = in.size();
  pkt::Bytes out(in.size() + 512);
  DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = out.data(),
                      .data_size_in = static_cast<uint32_t>(in.size()),
                      .data_size_out = static_cast<uint32_t>(out.size()), .ctx_in = &ctx,
                      .ctx_size_in = sizeof ctx, .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(prog_fd, &opts))
    throw std::runtime_error(std::string("BPF_PROG_TEST_RUN: ") + strerror(errno));
  *verdict = static_cast<int>(opts.retval);
  return opts.duration;  // the kernel reports the mean per repetition
}

// n filler SIDs and n IPv6 and n IPv4 policies, none matching a case.
void fill(srv6::Instance& inst, uint32_t n) {
  std::vector<srv6::Change> changes;
  auto seg = srv6::parse_addr6("fc00:2::1");
  for (uint32_t i = 0; i < n; i++) {
    srv6::Prefix6 sid{srv6::parse_addr6("fc00:f000::"), 128};
    srv6::Prefix6 p6{srv6::parse_addr6("2001:db8:f000::"), 64};
    for (int b = 0; b < 3; b++) {  // i (< 2^24) in bytes 5..7
      sid.addr[7 - b] = uint8_t(i >> (8 * b));
      p6.addr[7 - b] = uint8_t(i >> (8 * b));
    }
    changes.push_back(srv6::AddSid{{.sid = sid, .action = SRV6_ACTION_END}});
    changes.push_back(srv6::AddPolicy{{p6, SRV6_ENCAP, {seg}, {}}});
    srv6::Prefix4 p4{{11, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)}, 32};
    changes.push_back(srv6::AddPolicy{{p4, SRV6_ENCAP, {seg}, {}}});
  }
  inst.apply(changes);
}

bool g_min = false;  // --min

// The median of the rounds, or with --min their minimum.
double summary(std::vector<double> v) {
  if (g_min) return *std::min_element(v.begin(), v.end());
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int run(int argc, char** argv) {
  uint32_t repeat = 1000000, rounds = 7, entries = 0;
  std::vector<std::string> names;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "-n" && i + 1 < argc) repeat = std::stoul(argv[++i]);
    else if (a == "-r" && i + 1 < argc) rounds = std::stoul(argv[++i]);
    else if (a == "--entries" && i + 1 < argc) entries = std::stoul(argv[++i]);
    else if (a == "--min") g_min = true;
    else names.push_back(a);
  }
  if (names.empty())
    names = {"End_SL2_to_1", "EndX_global_nh6", "EndT_table_100", "HEncaps_2_SIDs_IPv6_inner",
             "HEncaps_2_SIDs_IPv4_inner", "HEncapsRed_2_SIDs_IPv6_inner", "IPv6_not_ours"};

  uint32_t room = entries + 1024;  // and the fixture's own
  cases::Fixture fixture("perf", {.sids = room, .policies = 2 * room});
  srv6::Instance& inst = fixture.instance();
  fill(inst, entries);
  bench_restore* skel = bench_restore__open_and_load();
  if (!skel) {
    fprintf(stderr, "cannot load tools/bench/restore.bpf.c\n");
    return 1;
  }
  int target = bpf_map__fd(skel->maps.target), tmpl = bpf_map__fd(skel->maps.template_frame);
  int restore = bpf_program__fd(skel->progs.restore_xdp);
  // The baseline redirects to out0 with the MACs out0 would use: the
  // redirect itself is not done by a plain (not live-frames) test run.
  bench_ceiling* ceiling = bench_ceiling__open();
  if (!ceiling) {
    fprintf(stderr, "cannot open tools/bench/ceiling.bpf.c\n");
    bench_restore__destroy(skel);
    return 1;
  }
  ceiling->rodata->egress_ifindex = srv6::ifindex_of("out0");
  std::memcpy(const_cast<uint8_t*>(ceiling->rodata->dmac), fixture::kNh0Mac.data(), 6);
  std::memcpy(const_cast<uint8_t*>(ceiling->rodata->smac), fixture::kOut0Mac.data(), 6);
  if (bench_ceiling__load(ceiling)) {
    fprintf(stderr, "cannot load tools/bench/ceiling.bpf.c\n");
    bench_ceiling__destroy(ceiling);
    bench_restore__destroy(skel);
    return 1;
  }
  int null_prog = bpf_program__fd(skel->progs.null_xdp), srv6_prog = inst.xdp_prog_fd();
  int base_prog = bpf_program__fd(ceiling->progs.ceiling_xdp);
  uint32_t zero = 0;
  int rc = 0;

  printf("entries: %u SIDs, %u IPv6 and %u IPv4 policies besides the fixture's\n", entries, entries, entries);
  printf("%-32s %8s %10s %11s %8s %7s %8s %6s\n", "case", "verdict", "total_ns", "restore_ns", "srv6_ns",
         "fib_ns", "base_ns", "ratio");
  for (const auto& c : cases::all_cases()) {
    if (std::find(names.begin(), names.end(), c.name) == names.end()) continue;
    Template t{static_cast<uint32_t>(c.in.size()), {}};
    std::memcpy(t.data, c.in.data(), std::min(c.in.size(), sizeof t.data));
    bpf_map_update_elem(tmpl, &zero, &t, BPF_ANY);
    std::vector<double> total, uncached, restore_only, ceil_total;
    int verdict = -1, ignored;
    for (uint32_t r = 0; r < rounds; r++) {  // interleaved: noise hits both alike
      bpf_map_update_elem(target, &zero, &srv6_prog, BPF_ANY);
      auto watch = std::make_unique<srv6::FibWatch>(inst);  // a run takes < 1 s: one lease
      total.push_back(run_ns(restore, c.in, repeat, &verdict));
      watch.reset();
      uncached.push_back(run_ns(restore, c.in, repeat, &ignored));
      bpf_map_update_elem(target, &zero, &null_prog, BPF_ANY);
      restore_only.push_back(run_ns(restore, c.in, repeat, &ignored));
      bpf_map_update_elem(target, &zero, &base_prog, BPF_ANY);
      ceil_total.push_back(run_ns(restore, c.in, repeat, &ignored));
    }
    if (verdict != c.xdp.verdict) {
      fprintf(stderr, "%s: verdict %d, expected %d\n", c.name.c_str(), verdict, c.xdp.verdict);
      rc = 1;
    }
    double tm = summary(total), rm = summary(restore_only), base = summary(ceil_total) - rm;
    printf("%-32s %8d %10.1f %11.1f %8.1f %7.1f %8.1f %6.2f\n", c.name.c_str(), verdict, tm, rm, tm - rm,
           summary(uncached) - rm, base, base > 0 ? (tm - rm) / base : 0.0);
  }
  bench_ceiling__destroy(ceiling);
  bench_restore__destroy(skel);
  return rc;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // caught, so the fixture's pins go
    fprintf(stderr, "packet_perf: %s\n", e.what());
    return 1;
  }
}
