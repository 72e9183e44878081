// libFuzzer target for the srv6ctl command-line parser (tools/srv6ctl/parse.cpp)
// and the config parsers/validation it uses (loader/src/config.cpp), built with
// clang++-14 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all.
//
// What it checks, per input:
//  1. argv: the input is split into at most kMaxTokens tokens -- on NUL when
//     the input holds a NUL (so a token may contain spaces, newlines, or be
//     empty, as a real argv may), else on runs of ASCII whitespace (so the
//     corpus files are readable: "sid add fc00::1 action End"). "srv6ctl" is
//     prepended and srv6::cli::parse(argc, argv) is called.
//     - srv6::Error is the expected refusal; its message must be one non-empty
//       line (no '\n' or '\r') that does not start with a space.
//     - Any other exception type, a crash, a leak or UB is a finding.
//     - On success the result must be self-consistent: a parsed SidAdd or
//       PolicyAdd passes validate() again, prefixes survive
//       format -> parse, policy segs are 1..SRV6_MAX_SEGS, dev names are
//       1..IFNAMSIZ-1 bytes.
//  2. raw strings: every distinct token (the first 16), and the whole input
//     (embedded NULs included), go to srv6::parse_addr6 / parse_prefix6 / parse_prefix with the same
//     Error rules; a success must round-trip through format_* and must not
//     come from a string holding a NUL (inet_pton would stop at it and
//     silently ignore the rest).
//  3. validate(): SidConfig and PolicyConfig are assembled from the parsed
//     tokens and fuzz-chosen fields (every declared enum value, oif, table,
//     0..20 segs); validate() either throws Error or the config satisfies
//     the documented rules (unicast SID, End.X has a unicast nh6, End.T has a
//     table, attributes only where allowed, 1..16 unicast segs).
//
// Findings abort via __builtin_trap() (libFuzzer writes crash-<sha1>).
//
// Known findings (reported, not fixed yet; checked only with
// SRV6_CLI_FUZZ_STRICT=1, replayed by corpus/known_*):
//  - Error messages echo the offending token verbatim: a token holding '\n'
//    (srv6ctl attach $'eth\n0') gives a multi-line message, against the
//    "one line on stderr" contract. Lenient mode still fails on line breaks
//    that do not come from the input.
//  - parse_addr6/parse_prefix6/parse_prefix hand std::string(text).c_str()
//    to inet_pton, which stops at a NUL: "fc00::1\0junk" is accepted.
//    Unreachable from argv, reachable from any string_view caller.
//  - check_dev() says it is the kernel's dev_valid_name() but refuses only
//    ' ', '\t', '\n' of the kernel's isspace(): "eth\r0", "eth\v0", "eth\f0"
//    and "eth\xa00" pass the parser (the kernel would refuse them later).
//
// Build: tests/fuzz/cli/CMakeLists.txt (target cli_fuzz_build, binary
// <build>/tests/fuzz/cli/cli_fuzz). By hand:
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -fno-sanitize-recover=all -Itools/srv6ctl -Iloader/include -Iinclude \
//     tests/fuzz/cli/cli_fuzz.cpp tools/srv6ctl/parse.cpp loader/src/config.cpp \
//     -o /tmp/cli_fuzz
//
// CI: `ctest -L cli` (-L fuzz also runs bpf_fuzz), about 22 s, ~55k executions
// at ~2.7k exec/s: test cli_fuzz_corpus copies the seed corpus afresh to
// <build>/tests/fuzz/cli/corpus (the source corpus is never written), then
//   cli_fuzz -max_total_time=20 -timeout=5 -rss_limit_mb=2048 -max_len=1024 \
//     -print_final_stats=1 -dict=tests/fuzz/cli/cli.dict \
//     -artifact_prefix=<build>/tests/fuzz/cli/ <build>/tests/fuzz/cli/corpus
// Leaks are checked (ASan's LeakSanitizer, libFuzzer -detect_leaks=1 default).
// Run time: cmake -DSRV6_CLI_FUZZ_SECONDS=N.
//
// Longer run (10 minutes; the grown corpus stays in /tmp/cli_corpus):
//   cmake --build build --target cli_fuzz_build
//   cp -r tests/fuzz/cli/corpus /tmp/cli_corpus
//   build/tests/fuzz/cli/cli_fuzz -max_total_time=600 -timeout=5 -max_len=1024 \
//     -dict=tests/fuzz/cli/cli.dict -print_final_stats=1 /tmp/cli_corpus
// To replay one input: build/tests/fuzz/cli/cli_fuzz crash-<sha1>
// Only add minimised, interesting inputs back to tests/fuzz/cli/corpus/
// (cli_fuzz -merge=1 tests/fuzz/cli/corpus /tmp/cli_corpus).
#include <net/if.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <string_view>
#include <variant>
#include <vector>

#include "parse.hpp"
#include "srv6/config.hpp"

namespace {

using namespace srv6;

constexpr size_t kMaxTokens = 64;
constexpr size_t kMaxRawTokens = 16;

// Strict mode (-DSRV6_CLI_FUZZ_STRICT=1, CMake option SRV6_CLI_FUZZ_STRICT)
// also fails on the two known findings below; turn it on once parse.cpp and
// config.cpp are fixed. corpus/known_* replay them.
#ifndef SRV6_CLI_FUZZ_STRICT
#define SRV6_CLI_FUZZ_STRICT 0
#endif

// The whole current input (for the lenient checks).
std::string_view g_input;

[[noreturn]] void finding(const char* what, std::string_view detail = {}) {
  std::string esc;
  for (unsigned char c : detail) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      esc += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      esc += buf;
    }
  }
  std::fprintf(stderr, "cli_fuzz FINDING: %s: \"%s\"\n", what, esc.c_str());
  __builtin_trap();
}

void check_message(const Error& e) {
  std::string_view m = e.what();
  if (m.empty()) finding("empty Error message");
  if (m.front() == ' ') finding("Error message starts with a space", m);
  for (char c : {'\n', '\r'}) {
    if (m.find(c) == std::string_view::npos) continue;
#if !SRV6_CLI_FUZZ_STRICT
    // Known finding: the parsers echo the offending token verbatim, so a
    // token holding a newline makes a multi-line message. Lenient mode only
    // catches line breaks the parser adds itself.
    if (g_input.find(c) != std::string_view::npos) continue;
#endif
    finding("multi-line Error message", m);
  }
}

// Runs f(); Error is fine (message checked), anything else is a finding.
template <typename F>
bool attempt(const char* what, F&& f) {
  try {
    f();
    return true;
  } catch (const Error& e) {
    check_message(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cli_fuzz FINDING: %s threw %s: %s\n", what, typeid(e).name(), e.what());
    __builtin_trap();
  } catch (...) {
    finding("non-std exception", what);
  }
  return false;
}

bool is_unicast(const Addr6& a) {
  bool zero = true;
  for (auto b : a) zero &= b == 0;
  return !zero && a[0] != 0xff;
}

// ---------------------------------------------------------------- raw strings

// Successful parses are appended to addrs/prefixes (for check_validate).
void check_raw(std::string_view s, std::vector<Addr6>& addrs, std::vector<Prefix>& prefixes) {
  // Known finding: inet_pton() stops at the first NUL, so "fc00::1\0junk"
  // is accepted as fc00::1. Checked only in strict mode.
  const bool has_nul = SRV6_CLI_FUZZ_STRICT && s.find('\0') != std::string_view::npos;
  attempt("parse_addr6", [&] {
    Addr6 a = parse_addr6(s);
    if (has_nul) finding("parse_addr6 accepted a string with a NUL", s);
    if (parse_addr6(format_addr6(a)) != a) finding("parse_addr6 round trip", s);
    addrs.push_back(a);
  });
  attempt("parse_prefix6", [&] {
    Prefix6 p = parse_prefix6(s);
    if (has_nul) finding("parse_prefix6 accepted a string with a NUL", s);
    if (p.len > 128) finding("prefix6 length > 128", s);
    if (parse_prefix6(format_prefix6(p)) != p) finding("parse_prefix6 round trip", s);
  });
  attempt("parse_prefix", [&] {
    Prefix p = parse_prefix(s);
    if (has_nul) finding("parse_prefix accepted a string with a NUL", s);
    if (auto* p4 = std::get_if<Prefix4>(&p); p4 && p4->len > 32) finding("prefix4 length > 32", s);
    if (parse_prefix(format_prefix(p)) != p) finding("parse_prefix round trip", s);
    prefixes.push_back(p);
  });
  // Names round-trip too.
  if (auto a = action_from_name(s); a && action_name(*a) != s) finding("action name", s);
  if (auto m = encap_mode_from_name(s); m && encap_mode_name(*m) != s) finding("mode name", s);
}

// ------------------------------------------------------------------ validate()

// Pulls small numbers off the front of the input (deterministically).
struct Bytes {
  const uint8_t* p;
  size_t n;
  uint8_t u8() { return n ? (n--, *p++) : 0; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = v << 8 | u8();
    return v;
  }
};

Addr6 addr_from(Bytes& b, const std::vector<Addr6>& parsed) {
  uint8_t sel = b.u8();
  if (!parsed.empty() && sel < 0xc0) return parsed[sel % parsed.size()];
  Addr6 a{};
  switch (sel & 3) {
    case 0: break;                          // ::
    case 1: a[0] = 0xff; a[15] = 1; break;  // multicast
    case 2: a[0] = 0xfe; a[1] = 0x80; a[15] = 1; break;  // link-local
    case 3: for (auto& x : a) x = b.u8(); break;
  }
  return a;
}

// Values 0..__MAX, the gaps between the enumerators included (the
// kernel's numbering leaves them: behaviours not written yet): all within
// the enum's range, so no UB in the fuzzer itself.
srv6_action action_from(uint8_t v) { return static_cast<srv6_action>(v % (SRV6_ACTION__MAX + 1)); }
srv6_encap_mode mode_from(uint8_t v) { return static_cast<srv6_encap_mode>(v % (SRV6_ENCAP__MAX + 1)); }

void check_validate(Bytes b, const std::vector<Addr6>& addrs, const std::vector<Prefix>& prefixes) {
  SidConfig s;
  s.sid.addr = addr_from(b, addrs);
  s.sid.len = b.u8() % 129;
  s.action = action_from(b.u8());
  uint8_t flags = b.u8();
  if (flags & 1) s.nh6 = addr_from(b, addrs);
  if (flags & 2) s.oif = b.u32();
  if (flags & 4) s.oif_name = "eth0";
  if (flags & 8) s.table = b.u32();
  if (flags & 16) s.nh4 = Addr4{b.u8(), b.u8(), b.u8(), b.u8()};
  if (attempt("validate(SidConfig)", [&] { validate(s); })) {
    bool has_oif = s.oif != 0 || !s.oif_name.empty();
    bool ll_nh6 = s.nh6 && (*s.nh6)[0] == 0xfe && ((*s.nh6)[1] & 0xc0) == 0x80;
    if (!is_unicast(s.sid.addr)) finding("validate accepted a non-unicast SID");
    if (s.nh4 && s.action != SRV6_ACTION_END_DX4) finding("validate: nh4 outside End.DX4");
    switch (s.action) {
      case SRV6_ACTION_END:
        if (s.nh6 || has_oif || s.table) finding("validate: End with nh6/oif/table");
        break;
      case SRV6_ACTION_END_X:
        if (!s.nh6 || !is_unicast(*s.nh6) || s.table) finding("validate: bad End.X");
        if ((*s.nh6)[0] == 0xfe && ((*s.nh6)[1] & 0xc0) == 0x80 && !has_oif)
          finding("validate: link-local End.X without oif");
        break;
      case SRV6_ACTION_END_T:
      case SRV6_ACTION_END_DT4:
      case SRV6_ACTION_END_DT6:
      case SRV6_ACTION_END_DT46:
        if (s.nh6 || has_oif || s.table == 0) finding("validate: bad End.T/End.DT*");
        break;
      case SRV6_ACTION_END_DX6:  // :: is allowed: the inner destination
        if (!s.nh6 || (*s.nh6)[0] == 0xff || s.table) finding("validate: bad End.DX6");
        if (ll_nh6 && !has_oif) finding("validate: link-local End.DX6 without oif");
        break;
      case SRV6_ACTION_END_DX4: {
        const Addr4 bcast{255, 255, 255, 255};
        if (!s.nh4 || ((*s.nh4)[0] & 0xf0) == 0xe0 || *s.nh4 == bcast || s.nh6 || s.table)
          finding("validate: bad End.DX4");
        break;
      }
      default: finding("validate accepted an unknown action");
    }
  }

  PolicyConfig p;
  if (!prefixes.empty()) p.prefix = prefixes[b.u8() % prefixes.size()];
  p.mode = mode_from(b.u8());
  size_t nsegs = b.u8() % 21;
  for (size_t i = 0; i < nsegs; i++) p.segs.push_back(addr_from(b, addrs));
  if (b.u8() & 1) p.src = addr_from(b, addrs);
  if (attempt("validate(PolicyConfig)", [&] { validate(p); })) {
    if (p.mode != SRV6_ENCAP && p.mode != SRV6_ENCAP_RED) finding("validate: unknown mode");
    if (p.segs.empty() || p.segs.size() > SRV6_MAX_SEGS) finding("validate: seg count");
    for (const auto& a : p.segs)
      if (!is_unicast(a)) finding("validate: non-unicast seg");
    if (p.src && !is_unicast(*p.src)) finding("validate: non-unicast src");
  }
}

// ------------------------------------------------------------------------ CLI

// The kernel's dev_valid_name(); its isspace() is Latin-1: \t\n\v\f\r, ' ', 0xa0.
bool kernel_dev_valid_name(const std::string& dev) {
  if (dev.empty() || dev.size() >= IFNAMSIZ || dev == "." || dev == "..") return false;
  for (unsigned char c : dev)
    if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0) return false;
  return true;
}

void check_dev_name(const std::string& dev) {
  if (dev.empty() || dev.size() >= IFNAMSIZ) finding("parse accepted a bad device name", dev);
  // Known finding: check_dev() refuses only " \t\n" of the kernel's spaces.
  if (SRV6_CLI_FUZZ_STRICT && !kernel_dev_valid_name(dev))
    finding("parse accepted a device name the kernel refuses", dev);
}

void check_command(const cli::Command& c) {
  if (c.globals.instance.empty() || c.globals.instance.find('/') != std::string::npos)
    finding("parse accepted a bad instance name", c.globals.instance);
  std::visit(
      [](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, cli::Attach> || std::is_same_v<T, cli::Detach>) {
          check_dev_name(a.dev);
        } else if constexpr (std::is_same_v<T, cli::SidAdd>) {
          if (!attempt("validate(parsed SidAdd)", [&] { validate(a.config); }))
            finding("parsed SidAdd fails validate()");
          if (a.config.oif != 0) finding("parser set oif (should keep only oif_name)");
          if (!a.config.oif_name.empty()) check_dev_name(a.config.oif_name);
          if (parse_prefix6(format_prefix6(a.config.sid)) != a.config.sid)
            finding("SidAdd SID round trip");
        } else if constexpr (std::is_same_v<T, cli::SidDel>) {
          if (a.sid.len > 128) finding("SidDel length");
        } else if constexpr (std::is_same_v<T, cli::PolicyAdd>) {
          if (!attempt("validate(parsed PolicyAdd)", [&] { validate(a.config); }))
            finding("parsed PolicyAdd fails validate()");
          if (parse_prefix(format_prefix(a.config.prefix)) != a.config.prefix)
            finding("PolicyAdd prefix round trip");
        }
      },
      c.action);
}

std::vector<std::string> split(std::string_view in) {
  std::vector<std::string> toks;
  if (in.find('\0') != std::string_view::npos) {
    size_t start = 0;
    while (toks.size() < kMaxTokens) {
      size_t nul = in.find('\0', start);
      toks.emplace_back(in.substr(start, nul - start));
      if (nul == std::string_view::npos) break;
      start = nul + 1;
    }
  } else {
    constexpr std::string_view ws = " \t\n\r\v\f";
    size_t start = in.find_first_not_of(ws);
    while (start != std::string_view::npos && toks.size() < kMaxTokens) {
      size_t end = in.find_first_of(ws, start);
      toks.emplace_back(in.substr(start, end - start));
      start = in.find_first_not_of(ws, end);
    }
  }
  return toks;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  g_input = in;
  std::vector<std::string> toks = split(in);

  // 1. The CLI, exactly as main() calls it.
  std::vector<const char*> argv{"srv6ctl"};
  for (const auto& t : toks) argv.push_back(t.c_str());
  argv.push_back(nullptr);
  attempt("cli::parse", [&] {
    cli::Command c = cli::parse(static_cast<int>(argv.size() - 1), argv.data());
    check_command(c);
  });

  // 2. Raw strings.
  std::vector<Addr6> addrs;
  std::vector<Prefix> prefixes;
  // Distinct tokens only, at most kMaxRawTokens: every refusal is a C++
  // throw, the slow part of an execution.
  std::vector<std::string_view> raw;
  for (const auto& t : toks)
    if (raw.size() < kMaxRawTokens && std::find(raw.begin(), raw.end(), t) == raw.end())
      raw.push_back(t);
  for (std::string_view t : raw) check_raw(t, addrs, prefixes);
  check_raw(in, addrs, prefixes);

  // 3. validate() on assembled configs, steered by the raw bytes.
  check_validate(Bytes{data, size}, addrs, prefixes);
  return 0;
}
