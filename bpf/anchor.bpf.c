// SPDX-License-Identifier: GPL-2.0
// The liveness anchor of a network namespace's pins (loader/src/store.cpp):
// a link attached to the namespace, pinned next to its instances. The kernel
// detaches it when the namespace is destroyed, which is how a dead
// namespace's pins are told from a live one's. It selects no socket, so
// every socket lookup goes on as if it were not there.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("sk_lookup")
int srv6_anchor(struct bpf_sk_lookup* ctx) { return SK_PASS; }

char LICENSE[] SEC("license") = "GPL";
