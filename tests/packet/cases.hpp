// The packet test cases as data, and the fixture configuration they assume.
// Shared by the packet tests (datapath_test.cpp) and the per-packet cost
// measurement (packet_perf.cpp), so both run exactly the same frames.
#pragma once

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "builder.hpp"
#include "srv6/instance.hpp"

namespace cases {

struct Expect {
  int verdict;
  pkt::Bytes out;  // empty: the input, unchanged
  std::map<srv6_reason, uint64_t> reasons{};
  srv6::Counters counters{};  // of `entry`
  // Byte ranges (offset, length) of `out` not compared (a random IPv4 id
  // and the header checksum that covers it); `check` then judges the frame
  // ("" when right), e.g. that the IPv4 header checksum verifies.
  std::vector<std::pair<size_t, size_t>> masked{};
  std::function<std::string(const pkt::Bytes&)> check{};
};

struct Case {
  std::string name;
  std::string entry;  // SID or policy prefix whose counters move; "" none
  pkt::Bytes in;
  Expect xdp, tc;
  // BPF_PROG_TEST_RUN refuses skbs shorter than their L3 header, so frames
  // cut that short are only run at XDP.
  bool xdp_only = false;
  // The device the frame arrives on (the run's ifindex); empty: fixture::kIn.
  std::string ingress{};
  // TC: the skb is a GSO packet of gso_size-byte segments, standing for
  // gso_segs packets (0: unknown, as for a packet whose headers must be
  // checked). BPF_PROG_TEST_RUN takes both from the context, but no GSO
  // type (one page of linear data); XDP never sees GSO packets.
  uint32_t gso_size = 0, gso_segs = 0;
};

// "" when `out` is `want` but for the masked ranges, else a readable diff.
std::string compare(const Expect& e, const pkt::Bytes& want, const pkt::Bytes& out);


// gtest prints a case by its name.
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Every case, in a stable order.
std::vector<Case> all_cases();

// The groups in files of their own (all_cases() takes them in).
void add_decap_cases(std::vector<Case>& v);  // decap_cases.cpp
void configure_decap(srv6::Instance& inst);   // their SIDs
void add_headend_cases(std::vector<Case>& v);  // headend_cases.cpp
void configure_headend(srv6::Instance& inst);  // their policies, tunsrc
void add_route_cases(std::vector<Case>& v);    // route_cases.cpp
void configure_route(srv6::Instance& inst);
void add_tenant_cases(std::vector<Case>& v);   // tenant_cases.cpp
void configure_tenant(srv6::Instance& inst);   // their policies, ten1/ten2's tables

// Enters a fresh network namespace and builds the fixture's devices and
// routes (net_fixture.hpp). Throws std::runtime_error on failure.
void enter_fixture_namespace();

// Fills an instance with the SIDs and policies the cases expect, through
// the loader's typed API, and attaches XDP to the fixture's tx ports.
void configure(srv6::Instance& inst);

// The fixture as one object: a fresh network namespace, instance `name`
// configured as the cases expect. Its pins go with it, also when the
// configuration fails halfway (they would outlive the namespace otherwise).
class Fixture {
 public:
  explicit Fixture(const std::string& name, const srv6::InstanceOptions& opts = {});
  ~Fixture();
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
  srv6::Instance& instance() { return inst_; }

 private:
  srv6::Instance inst_;
};

}  // namespace cases
