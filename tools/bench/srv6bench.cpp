// Throughput benchmark helper: the BPF side of tools/bench/run.py.
//
//   srv6bench attach NETNS DEV sink
//   srv6bench attach NETNS DEV ceiling|bare EGRESS DMAC SMAC
//   srv6bench detach NETNS DEV
//   srv6bench gen NETNS DEV SINK_NETNS SINK_DEV HEX_FRAME RATE_PPS SECONDS [CREDIT [PID...]]
//
// attach loads one of the reference programs and attaches it natively; the
// attachment outlives this process (it goes with the device, so deleting the
// namespace removes it: nothing is pinned). gen offers HEX_FRAME from NETNS's
// DEV at RATE_PPS (0 = as fast as it can; paced in bursts of BURST frames,
// default 64) for SECONDS after a 0.2 s warm-up, and prints
// "offered_pps delivered_pps gen_busy [busy...]": delivered is the sink's
// count delta over the same window, gen_busy the generator's CPU time over
// that window, then the same for each thread PID given (the NAPI threads).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_ceiling.skel.h"
#include "bench_gen.skel.h"
#include "bench_sink.skel.h"

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + (errno ? std::string(": ") + strerror(errno) : ""));
}

// Enter only the network namespace (bpffs and /sys stay as they are).
void enter_netns(const std::string& name) {
  int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET)) fail("netns " + name);
  close(fd);
}

int ifindex(const std::string& dev) {
  int i = if_nametoindex(dev.c_str());
  if (!i) fail("device " + dev);
  return i;
}

void parse_mac(const char* s, volatile uint8_t* mac) {
  unsigned b[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
    throw std::runtime_error(std::string("bad MAC ") + s);
  for (int i = 0; i < 6; i++) mac[i] = b[i];
}

std::vector<uint8_t> parse_hex(const std::string& s) {
  std::vector<uint8_t> v;
  for (size_t i = 0; i + 1 < s.size(); i += 2) v.push_back(std::stoul(s.substr(i, 2), nullptr, 16));
  return v;
}

void xdp_attach(int ifi, int prog_fd) {
  // native only: a generic-mode fallback would measure something else
  if (bpf_xdp_attach(ifi, prog_fd, XDP_FLAGS_DRV_MODE, nullptr)) fail("XDP attach");
}

int cmd_attach(int argc, char** argv) {
  if (argc < 3) throw std::runtime_error("usage: attach NETNS DEV KIND [EGRESS DMAC SMAC]");
  enter_netns(argv[0]);
  int ifi = ifindex(argv[1]);
  std::string kind = argv[2];
  if (kind == "sink") {
    bench_sink* s = bench_sink::open_and_load();
    if (!s) fail("load sink");
    xdp_attach(ifi, bpf_program__fd(s->progs.sink_xdp));
    return 0;
  }
  if (argc < 6) throw std::runtime_error("ceiling|bare need EGRESS DMAC SMAC");
  bench_ceiling* c = bench_ceiling::open();
  if (!c) fail("open ceiling");
  c->rodata->egress_ifindex = ifindex(argv[3]);
  parse_mac(argv[4], c->rodata->dmac);
  parse_mac(argv[5], c->rodata->smac);
  if (bench_ceiling::load(c)) fail("load ceiling");
  bpf_program* p = kind == "ceiling" ? c->progs.ceiling_xdp
                   : kind == "bare"  ? c->progs.bare_xdp
                                     : nullptr;
  if (!p) throw std::runtime_error("unknown program " + kind);
  xdp_attach(ifi, bpf_program__fd(p));
  return 0;
}

int cmd_detach(int argc, char** argv) {
  if (argc < 2) throw std::runtime_error("usage: detach NETNS DEV");
  enter_netns(argv[0]);
  if (bpf_xdp_detach(ifindex(argv[1]), 0, nullptr)) fail("XDP detach");
  return 0;
}

// The sink's counter map, found through the program attached to the device.
int sink_map_fd(int ifi) {
  __u32 prog_id = 0, map_id = 0;
  if (bpf_xdp_query_id(ifi, XDP_FLAGS_DRV_MODE, &prog_id) || !prog_id) fail("no XDP program on sink");
  int prog_fd = bpf_prog_get_fd_by_id(prog_id);
  bpf_prog_info info{};
  __u32 len = sizeof info;
  info.nr_map_ids = 1;
  info.map_ids = reinterpret_cast<__u64>(&map_id);
  if (prog_fd < 0 || bpf_obj_get_info_by_fd(prog_fd, &info, &len) || !map_id) fail("sink map");
  close(prog_fd);
  int fd = bpf_map_get_fd_by_id(map_id);
  if (fd < 0) fail("sink map fd");
  return fd;
}

uint64_t sink_count(int map_fd) {
  static const int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> v(ncpu);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(map_fd, &zero, v.data())) fail("read sink");
  uint64_t sum = 0;
  for (auto x : v) sum += x;
  return sum;
}

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// CPU time (ns) a thread has run so far, from the scheduler's own clock
// (/proc/PID/stat's ticks are 10 ms coarse).
uint64_t cpu_ns(const std::string& pid) {
  FILE* f = fopen(("/proc/" + pid + "/schedstat").c_str(), "r");
  unsigned long long ns = 0;
  if (!f || fscanf(f, "%llu", &ns) != 1) fail("schedstat of " + pid);
  fclose(f);
  return ns;
}

void on_alarm(int) {}  // only interrupts the test run

// One live-frames test run that ends after `seconds` (a signal stops the
// kernel's loop between batches; the frames already sent are sent). Each run
// registers a page pool under a new memory-model id (at most 65534), freed
// up to a second after the run if frames are still in flight: on ENOSPC,
// wait and retry. Returns the seconds spent waiting.
double run_for(int prog_fd, bpf_test_run_opts& opts, double seconds) {
  double waited = 0;
  for (int tries = 0;; tries++) {
    itimerval it{};
    it.it_value.tv_sec = static_cast<time_t>(seconds);
    it.it_value.tv_usec = static_cast<suseconds_t>((seconds - it.it_value.tv_sec) * 1e6);
    setitimer(ITIMER_REAL, &it, nullptr);
    opts.repeat = 1 << 30;  // far more than fit in `seconds`
    if (!bpf_prog_test_run_opts(prog_fd, &opts) || errno == EINTR) return waited;
    if (errno != ENOSPC || tries > 100) fail("BPF_PROG_TEST_RUN");
    double t = now();
    usleep(20000);
    waited += now() - t;
  }
}

int cmd_gen(int argc, char** argv) {
  if (argc < 7)
    throw std::runtime_error("usage: gen NETNS DEV SINK_NETNS SINK_DEV HEX RATE SECONDS [BURST [PID...]]");
  std::vector<uint8_t> frame = parse_hex(argv[4]);
  double rate = std::stod(argv[5]), seconds = std::stod(argv[6]);
  int burst = argc > 7 ? std::stoi(argv[7]) : 64;
  std::vector<std::string> pids(argv + std::min(argc, 8), argv + argc);

  enter_netns(argv[2]);
  int map_fd = sink_map_fd(ifindex(argv[3]));
  enter_netns(argv[0]);

  bench_gen* g = bench_gen::open();
  if (!g) fail("open gen");
  if (frame.size() < 14 || frame.size() > sizeof g->bss->tmpl) throw std::runtime_error("bad frame size");
  if (bench_gen::load(g)) fail("load gen");
  memcpy(g->bss->tmpl, frame.data(), frame.size());
  g->bss->tmpl_len = frame.size();
  if (rate > 0) {  // see gen.bpf.c
    g->bss->interval_ns = std::max<uint64_t>(1, 1e9 / rate);
    g->bss->burst = std::max(1, burst);
    // catching up after a stall: at most one veth ring (256 frames)
    g->bss->credit_ns = std::max(256, burst) * g->bss->interval_ns;
  }

  xdp_md ctx{};
  ctx.ingress_ifindex = ifindex(argv[1]);
  ctx.data_end = frame.size();
  // 256 frames a batch (the kernel's maximum) also sizes the run's page pool
  // ring: with 64, frames coming back from the sink overflow it, are freed,
  // and the generator allocates and initialises fresh pages instead.
  DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                      .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &ctx,
                      .ctx_size_in = sizeof ctx, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
                      .batch_size = 256);
  int prog_fd = bpf_program__fd(g->progs.gen_xdp);
  // Each XDP test run adds its program to the kernel's XDP dispatcher and
  // removes it afterwards, two RCU grace periods unless the program is
  // already there. Attaching it to our own veth (which receives nothing)
  // keeps it there.
  xdp_attach(ctx.ingress_ifindex, prog_fd);
  struct sigaction sa {};
  sa.sa_handler = on_alarm;  // no SA_RESTART: the test run returns EINTR
  sigaction(SIGALRM, &sa, nullptr);

  // Warm up (caches, NAPI threads awake, pacing settled) for 0.2 s.
  run_for(prog_fd, opts, 0.2);

  std::vector<uint64_t> busy0;
  for (auto& p : pids) busy0.push_back(cpu_ns(p));
  uint64_t gen0 = cpu_ns("thread-self"), sent0 = g->bss->sent, c0 = sink_count(map_fd);
  double start = now();
  double waited = run_for(prog_fd, opts, seconds);  // not offered time: left out
  double dt = now() - start - waited;
  uint64_t c1 = sink_count(map_fd), sent = g->bss->sent - sent0;
  printf("%.0f %.0f %.3f", sent / dt, (c1 - c0) / dt, (cpu_ns("thread-self") - gen0) / 1e9 / dt);
  for (size_t i = 0; i < pids.size(); i++) printf(" %.3f", (cpu_ns(pids[i]) - busy0[i]) / 1e9 / dt);
  printf("\n");
  bpf_xdp_detach(ctx.ingress_ifindex, 0, nullptr);
  bench_gen::destroy(g);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "attach") return cmd_attach(argc - 2, argv + 2);
    if (cmd == "detach") return cmd_detach(argc - 2, argv + 2);
    if (cmd == "gen") return cmd_gen(argc - 2, argv + 2);
    fprintf(stderr, "usage: srv6bench attach|detach|gen ... (see the source's header)\n");
    return 2;
  } catch (const std::exception& e) {
    fprintf(stderr, "srv6bench: %s\n", e.what());
    return 1;
  }
}
