// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * slb-agent: tc classifier that makes an unmodified Linux host label-aware.
 *
 * Ingress (slb_ingress): an Ethernet frame carrying one MPLS label stack entry
 * (RFC 3032, ethertype 0x8847, S=1) over IPv4/IPv6 has its label popped; the
 * label the host must put on its answer is remembered for the reverse 5-tuple:
 * server role: received + 1 (C2S odd -> S2C even), client role: received - 1.
 *
 * Egress (slb_egress): an IPv4/IPv6 TCP/UDP packet whose 5-tuple has a live
 * entry gets that label pushed between Ethernet and IP. In a cluster (the
 * config's cluster fields, written by `slb-agent cluster`), the frame's
 * destination MAC becomes that of the instance owning the label's slice, or
 * of the live instance standing in for it (map slb_cluster).
 *
 * Splicing (server role, splice.h): a SYN marked by slbd (LSE traffic class
 * 1) starts a SYN-proxied flow; the agent learns the server's ISN and TSval
 * from its SYN-ACK and the client's view from the marked ACK slbd replays,
 * then translates seq/ack, timestamps, SACK blocks and ICMP quotes.
 *
 * Both programs live in this one object and share its maps: the loader loads
 * the object once and attaches both programs (two `tc ... bpf obj` commands
 * would each create their own copy of the maps).
 *
 * Layouts shared with Rust (agent/src/program.rs): struct slb_flow_key,
 * struct slb_flow_value, struct slb_config, struct slb_next_hop,
 * enum slb_counter. Change both.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_MPLS_UC_ 0x8847
#define MPLS_HLEN 4
#define MPLS_TTL 64
#define LABEL_MIN 16u          /* 0..15 are reserved, RFC 3032 section 2.1 */
#define LABEL_MAX 0xFFFFFu     /* 20 bits */
#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
/* Refresh last_seen at most this often on egress hits: a write per packet
 * would bounce the value's cache line between CPUs for nothing. */
#define REFRESH_NS 1000000000ull

enum slb_role {
	SLB_ROLE_NONE = 0,
	SLB_ROLE_SERVER = 1,
	SLB_ROLE_CLIENT = 2,
};

enum slb_counter {
	CNT_POPPED = 0,        /* labels popped on ingress */
	CNT_PUSHED,            /* labels pushed on egress */
	CNT_LEARNED,           /* flow entries created or changed */
	CNT_MISSED,            /* egress TCP/UDP with no live entry: sent unlabelled */
	CNT_EXPIRED,           /* entries found idle on egress and removed (also counted in missed) */
	CNT_ERRORS,            /* helper failures */
	CNT_NOT_BOS_PASSED,    /* label stack deeper than one entry: passed unchanged */
	CNT_MALFORMED_PASSED,  /* labelled frame too short or not IP under the label: passed unchanged */
	CNT_LABEL_REJECTED,    /* label reserved or of the wrong parity for the role: popped, not learned */
	CNT_UNLEARNABLE,       /* popped, but not TCP/UDP or a non-first fragment: nothing learned */
	CNT_VLAN_PASSED,       /* frame with an offloaded VLAN tag: not handled, passed unchanged */
	CNT_NEW_SYN,           /* egress SYN of a new connection: always sent unlabelled */
	CNT_CLUSTER_REDIRECTED,  /* pushed, dst MAC set from slb_cluster (owner or stand-in) */
	CNT_CLUSTER_FALLBACK,    /* of those, to a stand-in for a dead owner */
	CNT_CLUSTER_NO_OWNER,    /* pushed label in no instance's slice: kernel's MAC kept */
	CNT_CLUSTER_NO_NEXT_HOP, /* owner without a valid entry (not known yet, none live): kernel's MAC kept */
	CNT_SPLICE_STARTED,      /* marked SYNs: the flow awaits the server's SYN-ACK */
	CNT_SPLICE_LEARNED,      /* marked ACKs in SYNACK_SEEN: delta and tsoff learned, flow ACTIVE */
	CNT_SPLICE_EARLY_DROPPED, /* unmarked TCP in AWAIT_SYNACK/SYNACK_SEEN: dropped */
	CNT_SPLICE_BAD_MARK,     /* marked ACK in another state, mark on non-TCP or unlearnable: dropped */
	CNT_SPLICE_OPTION_MISMATCH, /* SYN-ACK lacking an option the marked SYN offered */
	CNT_SPLICE_ICMP_TRANSLATED, /* ICMP errors quoting an ACTIVE flow: quoted seq translated */
	CNT_UNLABELLED_SYN_ACK,  /* client: unlabelled SYN-ACKs that removed a flow's old label */
	CNT_MAX = 32, /* slots in slb_counters (room to grow without a new layout) */
};

struct slb_flow_key {
	__u8 family;  /* 4 or 6 */
	__u8 proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 pad;
	__be16 sport; /* of the packet the host sends */
	__be16 dport;
	__be32 saddr[4]; /* IPv4 in saddr[0], rest zero */
	__be32 daddr[4];
};

/* slb_flow_value.splice: where a spliced (SYN-proxied) flow is. */
enum slb_splice {
	SPLICE_NONE = 0,         /* a plain session */
	SPLICE_AWAIT_SYNACK = 1, /* a marked SYN came in: waiting for the server's SYN-ACK */
	SPLICE_SYNACK_SEEN = 2,  /* the SYN-ACK went out: server_isn/server_tsval known */
	SPLICE_ACTIVE = 3,       /* the marked ACK came in: delta/tsoff translate */
};

/* TCP options seen (slb_flow_value.syn_opts/synack_opts, struct tcp_opts). */
#define OPT_TS 1
#define OPT_SACK_PERM 2
#define OPT_WS 4
#define OPT_MSS 8

struct slb_flow_value {
	__u32 label;
	__u8 splice;      /* enum slb_splice */
	__u8 syn_opts;    /* OPT_* the marked SYN offered */
	__u8 synack_opts; /* OPT_* the server's SYN-ACK carried */
	__u8 pad;
	__u64 last_seen_ns; /* bpf_ktime_get_ns() */
	__u32 server_isn;   /* seq of the server's SYN-ACK (host order) */
	__u32 server_tsval; /* its TSval (0 without TS) */
	__u32 delta;        /* cookie - server ISN: S2C seq += delta, C2S ack -= delta */
	__u32 tsoff;        /* slbd's TSval - server's: S2C TSval += tsoff, C2S TSecr -= tsoff */
};

struct slb_config {
	__u32 role;            /* enum slb_role */
	__u32 flags;           /* loader's own bits (clsact created by us), unused here */
	__u64 idle_timeout_ns; /* 0: never, LRU only */
	/* The cluster's label slices (core/src/label_slices.rs), written by
	 * `slb-agent cluster`: pair i (C2S first_c2s + 2i, S2C + 1) belongs to
	 * instance i / pairs_per_instance, to no one from `instances` on.
	 * instances 0: no cluster, the kernel's next hop for everything. */
	__u32 cluster_first_c2s;
	__u32 cluster_pairs_per_instance;
	__u32 cluster_instances;
	__u32 pad;
};

#define CLUSTER_MAX 64
#define NEXT_HOP_VALID 1    /* mac is to be used */
#define NEXT_HOP_FALLBACK 2 /* mac is a live stand-in's (via), the owner is dead */

/* slb_cluster[instance]: where frames with that instance's labels go. */
struct slb_next_hop {
	__u8 mac[ETH_ALEN];
	__u8 flags; /* NEXT_HOP_* */
	__u8 via;   /* the instance whose MAC this is (the key itself unless FALLBACK) */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* the loader sets the real size */
	__type(key, struct slb_flow_key);
	__type(value, struct slb_flow_value);
} slb_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} slb_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slb_config);
} slb_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLUSTER_MAX);
	__type(key, __u32);
	__type(value, struct slb_next_hop);
} slb_cluster SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&slb_counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline struct slb_config *config(void)
{
	__u32 zero = 0;
	struct slb_config *cfg = bpf_map_lookup_elem(&slb_config, &zero);

	if (!cfg || cfg->role == SLB_ROLE_NONE)
		return 0;
	return cfg;
}

/*
 * Fills key with the 5-tuple of the IP packet at offset off, as sent.
 * Returns 0 when the key is complete, -1 when the packet has no ports we can
 * use (not TCP/UDP, non-first fragment, IPv6 extension header) or is short.
 */
static __always_inline int parse_flow(struct __sk_buff *skb, __u32 off, __u16 eth_proto,
				      struct slb_flow_key *key, __u32 *l4off_out)
{
	__u32 l4off;
	__be16 ports[2];

	if (eth_proto == ETH_P_IP) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0)
			return -1;
		if (ip.version != 4 || ip.ihl < 5)
			return -1;
		if (bpf_ntohs(ip.frag_off) & IP_OFFSET)
			return -1;
		if (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP)
			return -1;
		key->family = 4;
		key->proto = ip.protocol;
		key->saddr[0] = ip.saddr;
		key->daddr[0] = ip.daddr;
		l4off = off + ip.ihl * 4;
	} else if (eth_proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0)
			return -1;
		if (ip6.version != 6)
			return -1;
		if (ip6.nexthdr != IPPROTO_TCP && ip6.nexthdr != IPPROTO_UDP)
			return -1;
		key->family = 6;
		key->proto = ip6.nexthdr;
		__builtin_memcpy(key->saddr, &ip6.saddr, 16);
		__builtin_memcpy(key->daddr, &ip6.daddr, 16);
		l4off = off + sizeof(ip6);
	} else {
		return -1;
	}
	/* Source and destination ports are the first 4 bytes of TCP and UDP. */
	if (bpf_skb_load_bytes(skb, l4off, ports, sizeof(ports)) < 0)
		return -1;
	key->sport = ports[0];
	key->dport = ports[1];
	*l4off_out = l4off;
	return 0;
}

/* True for a TCP segment with SYN set and ACK clear: the first packet of a
 * new connection. */
static __always_inline int is_new_syn(struct __sk_buff *skb, const struct slb_flow_key *key, __u32 l4off)
{
	__u8 flags;

	if (key->proto != IPPROTO_TCP)
		return 0;
	if (bpf_skb_load_bytes(skb, l4off + 13, &flags, 1) < 0)
		return 0;
	return (flags & 0x12) == 0x02;
}

/* Label to send back for a received label, or 0 when it must not be learned. */
static __always_inline __u32 reply_label(__u32 role, __u32 label)
{
	__u32 reply;

	if (label < LABEL_MIN)
		return 0;
	if (role == SLB_ROLE_SERVER) {
		if (!(label & 1))
			return 0;
		reply = label + 1;
	} else {
		if (label & 1)
			return 0;
		reply = label - 1;
	}
	if (reply < LABEL_MIN || reply > LABEL_MAX)
		return 0;
	return reply;
}

/* How a labelled packet changes its flow's splice state (learn()). */
enum learn_mode {
	LEARN_KEEP = 0,   /* any packet: a new label resets the state, else kept */
	LEARN_PLAIN_SYN,  /* an unmarked SYN: a plain session (state reset) */
	LEARN_SPLICE_SYN, /* a marked SYN: AWAIT_SYNACK, unless already waiting */
};

/*
 * Remembers label for key (the tuple the host sends). A new label for a known
 * tuple replaces the entry (a reused tuple: a new session, not spliced). The
 * splice state changes only by mode: an unmarked SYN makes the flow plain, a
 * marked SYN starts AWAIT_SYNACK with the options it offered (a marked SYN
 * retransmitted by slbd while the flow waits keeps what is known: the server
 * answers a duplicate SYN with the same ISN). Returns the entry (NULL when
 * the update failed, counted in errors).
 */
static __always_inline struct slb_flow_value *learn(struct slb_flow_key *key, __u32 label,
						     enum learn_mode mode, __u8 syn_opts)
{
	__u64 now = bpf_ktime_get_ns();
	struct slb_flow_value *old = bpf_map_lookup_elem(&slb_flows, key);
	struct slb_flow_value val = {};

	if (old && old->label == label) {
		int keep = mode == LEARN_KEEP ||
			   (mode == LEARN_PLAIN_SYN && old->splice == SPLICE_NONE) ||
			   (mode == LEARN_SPLICE_SYN && (old->splice == SPLICE_AWAIT_SYNACK ||
							 old->splice == SPLICE_SYNACK_SEEN));
		if (keep) {
			old->last_seen_ns = now;
			return old;
		}
	}
	val.label = label;
	val.last_seen_ns = now;
	if (mode == LEARN_SPLICE_SYN) {
		val.splice = SPLICE_AWAIT_SYNACK;
		val.syn_opts = syn_opts;
	}
	if (bpf_map_update_elem(&slb_flows, key, &val, BPF_ANY) < 0) {
		count(CNT_ERRORS);
		return 0;
	}
	count(CNT_LEARNED);
	if (mode == LEARN_SPLICE_SYN)
		count(CNT_SPLICE_STARTED);
	return bpf_map_lookup_elem(&slb_flows, key);
}

/*
 * Pop the one label stack entry of  dst src 8847 LSE IP...  leaving  dst src
 * <inner ethertype> IP... .
 *
 * bpf_skb_adjust_room(-4, BPF_ADJ_ROOM_MAC) refuses MPLS skbs (-ENOTSUPP on
 * this kernel), so the VLAN helpers do the moving:
 *   push tag X   no tag in the data yet: X is only the skb's offloaded tag
 *   push tag Y   X is written into the data: dst src 8100 X 8847 LSE IP
 *   rewrite      the 6 bytes 8847 LSE become 8100 Z <inner ethertype>:
 *                dst src 8100 X 8100 Z 0800 IP, a double-tagged IP frame
 *   pop x3       drops Y, then the tags X and Z from the data, leaving
 *                dst src 0800 IP with no offloaded tag and skb->protocol IP.
 * Each helper keeps CHECKSUM_COMPLETE consistent for the bytes it moves; the
 * rewrite of bytes that the checksum covers (from offset 18, the old LSE) asks
 * store_bytes to fix it, the 2 bytes at 16 are outside it.
 * Returns 0 on success, -1 on a helper failure (the frame is then unusable).
 */
static __always_inline int pop_label(struct __sk_buff *skb, __u16 inner_proto)
{
	__be16 tpid = bpf_htons(ETH_P_8021Q);
	__be16 tail[2] = { 0, bpf_htons(inner_proto) }; /* tag Z = 0, ethertype */

	if (bpf_skb_vlan_push(skb, tpid, 0) < 0)
		return -1;
	if (bpf_skb_vlan_push(skb, tpid, 0) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, 2 * ETH_ALEN + 4, &tpid, sizeof(tpid), 0) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, 2 * ETH_ALEN + 6, tail, sizeof(tail),
				BPF_F_RECOMPUTE_CSUM) < 0)
		return -1;
	if (bpf_skb_vlan_pop(skb) < 0)
		return -1;
	if (bpf_skb_vlan_pop(skb) < 0)
		return -1;
	if (bpf_skb_vlan_pop(skb) < 0)
		return -1;
	return 0;
}

#include "splice.h"

/*
 * In a cluster, replaces dst_mac with the next hop of the instance owning
 * label (either label of a pair: c2s = (label - 1) | 1 maps S2C N+1 to N and
 * keeps an odd N). The same arithmetic as LabelSlices::owner_of; label is a
 * pushed label, so already within 16..=0xFFFFF.
 */
static __always_inline void cluster_next_hop(const struct slb_config *cfg, __u32 label,
					     __u8 *dst_mac)
{
	__u32 instances = cfg->cluster_instances;
	__u32 per_instance = cfg->cluster_pairs_per_instance;
	__u32 first_c2s = cfg->cluster_first_c2s;
	__u32 c2s = (label - 1) | 1;
	__u32 owner;
	struct slb_next_hop *nh;

	if (!instances || !per_instance)
		return;
	if (c2s < first_c2s) {
		count(CNT_CLUSTER_NO_OWNER);
		return;
	}
	owner = (c2s - first_c2s) / 2 / per_instance;
	if (owner >= instances) {
		count(CNT_CLUSTER_NO_OWNER);
		return;
	}
	nh = bpf_map_lookup_elem(&slb_cluster, &owner);
	if (!nh || !(nh->flags & NEXT_HOP_VALID)) {
		count(CNT_CLUSTER_NO_NEXT_HOP);
		return;
	}
	__builtin_memcpy(dst_mac, nh->mac, ETH_ALEN);
	count(CNT_CLUSTER_REDIRECTED);
	if (nh->flags & NEXT_HOP_FALLBACK)
		count(CNT_CLUSTER_FALLBACK);
}

/* The 5-tuple of the answer to a packet of key (rev zero-initialised). */
static __always_inline void reverse(const struct slb_flow_key *key, struct slb_flow_key *rev)
{
	rev->family = key->family;
	rev->proto = key->proto;
	rev->sport = key->dport;
	rev->dport = key->sport;
	__builtin_memcpy(rev->saddr, key->daddr, sizeof(rev->saddr));
	__builtin_memcpy(rev->daddr, key->saddr, sizeof(rev->daddr));
}

/*
 * Client role, an unlabelled frame: a SYN-ACK answering a connection this
 * host opens, from a service that has no label for it yet (a SYN proxy's
 * cookie SYN-ACK: the session is bound on the handshake's ACK; or a host not
 * behind slbd). A label still in the flow map for the same tuple (a reused
 * port whose old entry has not gone idle) would ride that ACK to another
 * session, and slbd would drop it: the entry is removed, and the label comes
 * with the server's first labelled frame, as for any new connection.
 */
static __always_inline void client_unlabelled(struct __sk_buff *skb)
{
	struct slb_config *cfg;
	struct slb_flow_key key = {};
	struct slb_flow_key rev = {};
	__u32 l4off = 0;
	__u16 proto;
	__u8 flags;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		proto = ETH_P_IP;
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		proto = ETH_P_IPV6;
	else
		return;
	if (skb->vlan_present)
		return;
	cfg = config();
	if (!cfg || cfg->role != SLB_ROLE_CLIENT)
		return;
	if (parse_flow(skb, ETH_HLEN, proto, &key, &l4off) < 0 || key.proto != IPPROTO_TCP)
		return;
	if (bpf_skb_load_bytes(skb, l4off + 13, &flags, 1) < 0)
		return;
	/* SYN and ACK, not RST. */
	if ((flags & 0x16) != 0x12)
		return;
	reverse(&key, &rev);
	if (bpf_map_delete_elem(&slb_flows, &rev) == 0)
		count(CNT_UNLABELLED_SYN_ACK);
}

SEC("classifier")
int slb_ingress(struct __sk_buff *skb)
{
	struct slb_config *cfg;
	struct slb_flow_key key = {};
	struct splice_fix fix = {};
	__be32 lse_be;
	__u32 lse, label, reply, l4off = 0;
	int mark;
	__u8 ver;
	__u16 inner_proto;

	if (skb->protocol != bpf_htons(ETH_P_MPLS_UC_)) {
		client_unlabelled(skb);
		return TC_ACT_OK;
	}
	cfg = config();
	if (!cfg)
		return TC_ACT_OK;
	if (skb->vlan_present) {
		count(CNT_VLAN_PASSED);
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &lse_be, sizeof(lse_be)) < 0) {
		count(CNT_MALFORMED_PASSED);
		return TC_ACT_OK;
	}
	lse = bpf_ntohl(lse_be);
	label = lse >> 12;
	if (!(lse & 0x100)) {
		count(CNT_NOT_BOS_PASSED);
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, ETH_HLEN + MPLS_HLEN, &ver, 1) < 0) {
		count(CNT_MALFORMED_PASSED);
		return TC_ACT_OK;
	}
	if ((ver >> 4) == 4) {
		inner_proto = ETH_P_IP;
	} else if ((ver >> 4) == 6) {
		inner_proto = ETH_P_IPV6;
	} else {
		count(CNT_MALFORMED_PASSED);
		return TC_ACT_OK;
	}

	/*
	 * Learn first: the helpers in pop_label invalidate packet data. The
	 * mark (TC 1) is slbd's, on client-to-server frames to a server only;
	 * anywhere else it is dropped rather than ignored.
	 */
	mark = LSE_TC(lse) == SPLICE_MARK;
	reply = reply_label(cfg->role, label);
	if (parse_flow(skb, ETH_HLEN + MPLS_HLEN, inner_proto, &key, &l4off) < 0) {
		if (mark) {
			count(CNT_SPLICE_BAD_MARK);
			return TC_ACT_SHOT;
		}
		count(CNT_UNLEARNABLE);
		splice_icmp(skb, ETH_HLEN + MPLS_HLEN, inner_proto, &fix);
	} else if (!reply || (mark && (cfg->role != SLB_ROLE_SERVER || key.proto != IPPROTO_TCP))) {
		if (mark) {
			count(CNT_SPLICE_BAD_MARK);
			return TC_ACT_SHOT;
		}
		count(CNT_LABEL_REJECTED);
	} else {
		/* The host answers with the reverse 5-tuple. */
		struct slb_flow_key rev = {};

		reverse(&key, &rev);
		if (key.proto == IPPROTO_TCP && cfg->role == SLB_ROLE_SERVER) {
			if (splice_ingress(skb, &rev, reply, l4off, mark, &fix) == TC_ACT_SHOT)
				return TC_ACT_SHOT;
		} else {
			learn(&rev, reply, LEARN_KEEP, 0);
		}
	}

	if (pop_label(skb, inner_proto) < 0) {
		count(CNT_ERRORS);
		return TC_ACT_SHOT;
	}
	count(CNT_POPPED);
	if (splice_apply(skb, &fix) < 0) {
		count(CNT_ERRORS);
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

SEC("classifier")
int slb_egress(struct __sk_buff *skb)
{
	struct slb_config *cfg;
	struct slb_flow_key key = {};
	struct slb_flow_value *val;
	__u16 proto = bpf_ntohs(skb->protocol);
	__u32 l4off = 0;
	__u64 now;
	__u32 label;
	__u8 macs[2 * ETH_ALEN];
	struct {
		__be16 ethertype;
		__be32 lse;
	} __attribute__((packed)) mpls;

	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return TC_ACT_OK;
	cfg = config();
	if (!cfg)
		return TC_ACT_OK;
	if (parse_flow(skb, ETH_HLEN, proto, &key, &l4off) < 0)
		return TC_ACT_OK;
	/*
	 * A new connection always starts unlabelled: slbd admits sessions only
	 * from an unlabelled SYN. A client that reuses the 5-tuple of an ended
	 * connection must not send the old session's label (slbd would drop it
	 * as withdrawn or unknown, and the connection would never open). The
	 * entry stays: the answer to this SYN replaces its label, and a SYN
	 * retransmitted just as the answer arrives must not unlearn it.
	 */
	if (is_new_syn(skb, &key, l4off)) {
		count(CNT_NEW_SYN);
		return TC_ACT_OK;
	}
	val = bpf_map_lookup_elem(&slb_flows, &key);
	if (!val) {
		count(CNT_MISSED);
		return TC_ACT_OK;
	}
	now = bpf_ktime_get_ns();
	/*
	 * last_seen_ns may be later than now: the ingress program on another
	 * CPU refreshes it (learn()) between our clock read and this load.
	 * Unsigned now - last_seen would then wrap to a huge idle time, and a
	 * live flow would be deleted and this packet sent unlabelled (seen in
	 * the lab: one unlabelled ACK in the middle of a 10 MB download).
	 */
	if (cfg->idle_timeout_ns && now > val->last_seen_ns &&
	    now - val->last_seen_ns > cfg->idle_timeout_ns) {
		bpf_map_delete_elem(&slb_flows, &key);
		count(CNT_EXPIRED);
		count(CNT_MISSED);
		return TC_ACT_OK;
	}
	if (skb->vlan_present) {
		/* Software VLAN insertion would put the tag inside our 18-byte
		 * MAC header; attach the agent to the VLAN device instead. */
		count(CNT_VLAN_PASSED);
		count(CNT_MISSED);
		return TC_ACT_OK;
	}
	label = val->label;
	if (now > val->last_seen_ns && now - val->last_seen_ns > REFRESH_NS)
		val->last_seen_ns = now;
	/* Before the push: the offsets are those of the plain IP packet. */
	if (key.proto == IPPROTO_TCP && val->splice != SPLICE_NONE &&
	    splice_egress(skb, &key, val, l4off) < 0)
		goto err_shot;

	/*
	 * bpf_skb_adjust_room(+4, MAC) would work for single packets but breaks
	 * TCP GSO (every GSO skb dropped). change_head grows the MAC header
	 * instead: mac_len becomes 18 and the network header stays on IP, so GSO
	 * copies  dst src 8847 LSE  in front of every segment.
	 */
	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)) < 0)
		goto err;
	/* The MACs are rewritten anyway: choosing another destination costs
	 * one array lookup and no helper call. */
	cluster_next_hop(cfg, label, macs);
	if (bpf_skb_change_head(skb, MPLS_HLEN, 0) < 0)
		goto err;
	mpls.ethertype = bpf_htons(ETH_P_MPLS_UC_);
	mpls.lse = bpf_htonl((label << 12) | 0x100 /* S */ | MPLS_TTL);
	if (bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0) < 0)
		goto err_shot;
	if (bpf_skb_store_bytes(skb, 2 * ETH_ALEN, &mpls, sizeof(mpls), 0) < 0)
		goto err_shot;
	count(CNT_PUSHED);
	return TC_ACT_OK;
err:
	count(CNT_ERRORS);
	return TC_ACT_OK;
err_shot:
	/* The head grew but the header is half written: never send that. */
	count(CNT_ERRORS);
	return TC_ACT_SHOT;
}

/* Dual licensed; the kernel is told GPL. No GPL-only helper is used. */
char LICENSE[] SEC("license") = "GPL";
