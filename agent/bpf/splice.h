// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * Splicing (server role): slbd answers a client's SYN itself with a SYN
 * cookie and only then opens the connection to this server, with a SYN
 * marked by the label stack entry's traffic class (TC == 1). The server
 * chooses its own ISN and timestamp clock, the client knows slbd's: this
 * file learns the differences and translates every segment of the flow.
 *
 *   marked SYN in       -> AWAIT_SYNACK (learn(), LEARN_SPLICE_SYN)
 *   SYN-ACK out         -> SYNACK_SEEN: server_isn, server_tsval recorded
 *   marked ACK in       -> ACTIVE: delta = (ack - 1) - server_isn,
 *                          tsoff = TSecr - server_tsval (0 without TS)
 *   ACTIVE in           ack -= delta, TSecr -= tsoff, SACK edges -= delta
 *   ACTIVE out          seq += delta, TSval += tsoff
 *   ICMP error in       quoted seq -= delta (the quoted packet is the server's)
 *
 * Ingress decides before the pop (the helpers in pop_label invalidate packet
 * data and move the headers by 4 bytes) and rewrites after it, at offsets
 * 4 bytes lower (struct splice_fix). Checksums are updated incrementally with
 * bpf_l4_csum_replace: right for CHECKSUM_COMPLETE (field and data change
 * by opposite amounts, skb->csum stays valid), CHECKSUM_PARTIAL and GSO (the
 * check field then holds only the pseudo-header sum, which no rewrite here
 * touches).
 *
 * Included by slb_agent.bpf.c after its maps, count() and learn().
 */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_OPT_MAX 40 /* 60-byte header - 20 */
#define SACK_BLOCKS_MAX 4
#define LSE_TC(lse) (((lse) >> 9) & 7)
#define SPLICE_MARK 1 /* the LSE traffic class slbd sets (RFC 5462) */

/* The fixed part of a TCP header we use. */
struct tcp_head {
	__u32 seq; /* host order */
	__u32 ack;
	__u8 hdrlen; /* data offset in bytes */
	__u8 flags;
};

/* Options found by tcp_options(); offsets from the start of the TCP header. */
struct tcp_opts {
	__u8 have;        /* OPT_* */
	__u8 ts_at;       /* TSval (TSecr 4 bytes later); valid with OPT_TS */
	__u8 sack_at;     /* first SACK block's left edge */
	__u8 sack_blocks; /* 0..=4 */
};

/* What to rewrite after the pop (offsets already in the popped packet). */
enum splice_fix_kind {
	FIX_NONE = 0,
	FIX_TCP,  /* an ingress segment of an ACTIVE flow */
	FIX_ICMP, /* an ICMP error quoting a segment of an ACTIVE flow */
};

struct splice_fix {
	__u8 kind;        /* enum splice_fix_kind */
	__u8 ack;         /* FIX_TCP: ACK set, translate the ack field */
	__u8 ts_at;       /* FIX_TCP: as struct tcp_opts, 0: no TS */
	__u8 sack_at;
	__u8 sack_blocks;
	__u8 pad[3];
	__u32 l4off;      /* FIX_TCP: the TCP header; FIX_ICMP: the ICMP header */
	__u32 seq_at;     /* FIX_ICMP: the quoted seq */
	__u32 delta;
	__u32 tsoff;
};

static __always_inline int tcp_head(struct __sk_buff *skb, __u32 l4off, struct tcp_head *th)
{
	struct {
		__be32 seq;
		__be32 ack;
		__u8 doff;
		__u8 flags;
	} __attribute__((packed)) raw;

	if (bpf_skb_load_bytes(skb, l4off + 4, &raw, sizeof(raw)) < 0)
		return -1;
	th->seq = bpf_ntohl(raw.seq);
	th->ack = bpf_ntohl(raw.ack);
	th->hdrlen = (raw.doff >> 4) * 4;
	th->flags = raw.flags;
	if (th->hdrlen < 20)
		return -1;
	return 0;
}

/* State of one option walk: bpf_loop's callback context. */
struct opt_walk {
	__u8 buf[64]; /* the options; indexes are masked with 63: always inside */
	__u32 i;      /* next option */
	__u32 optlen;
	struct tcp_opts o;
};

/*
 * One step of the walk: the option at w->i. Returns 1 to stop (end of
 * options, or a malformed one: what was found before it stays), 0 to go on.
 * A bpf_loop callback is verified once for any number of steps; a plain loop
 * over 40 bytes of options made the verifier walk every path of every step
 * (over a million instructions).
 */
static long opt_step(__u32 index, void *ctx)
{
	struct opt_walk *w = ctx;
	__u32 i = w->i, optlen = w->optlen;
	__u8 kind, len;

	if (i >= optlen)
		return 1;
	kind = w->buf[i & 63];
	if (kind == 0) /* end of options */
		return 1;
	if (kind == 1) { /* no-op */
		w->i = i + 1;
		return 0;
	}
	if (i + 1 >= optlen)
		return 1;
	len = w->buf[(i + 1) & 63];
	if (len < 2 || i + len > optlen)
		return 1;
	switch (kind) {
	case 2: /* MSS */
		if (len == 4)
			w->o.have |= OPT_MSS;
		break;
	case 3: /* window scale */
		if (len == 3)
			w->o.have |= OPT_WS;
		break;
	case 4: /* SACK permitted */
		if (len == 2)
			w->o.have |= OPT_SACK_PERM;
		break;
	case 5: /* SACK: 1 to 4 blocks of two edges */
		if (len >= 10 && (len - 2) % 8 == 0) {
			__u8 n = (len - 2) / 8;

			w->o.sack_at = 20 + i + 2;
			w->o.sack_blocks = n > SACK_BLOCKS_MAX ? SACK_BLOCKS_MAX : n;
		}
		break;
	case 8: /* timestamps: TSval, TSecr */
		if (len == 10) {
			w->o.have |= OPT_TS;
			w->o.ts_at = 20 + i + 2;
		}
		break;
	}
	w->i = i + len;
	return 0;
}

/*
 * The options of the TCP header at l4off (hdrlen bytes long) into *o: at
 * most 40 bytes, one option per step, so at most 40 steps.
 */
static __always_inline void tcp_options(struct __sk_buff *skb, __u32 l4off, __u32 hdrlen,
					struct tcp_opts *o)
{
	struct opt_walk w = {};
	__u32 optlen;

	o->have = 0;
	o->ts_at = 0;
	o->sack_at = 0;
	o->sack_blocks = 0;
	if (hdrlen <= 20 || hdrlen > 20 + TCP_OPT_MAX)
		return;
	optlen = hdrlen - 20;
	/* optlen is 1..=40 already; written so that the verifier, which may
	 * see the check above on another register, also knows 1..=64. */
	if (bpf_skb_load_bytes(skb, l4off + 20, w.buf, 1 + ((optlen - 1) & 63)) < 0)
		return;
	w.optlen = optlen;
	bpf_loop(TCP_OPT_MAX, opt_step, &w, 0);
	*o = w.o;
}

static __always_inline int load32(struct __sk_buff *skb, __u32 off, __u32 *v)
{
	__be32 raw;

	if (bpf_skb_load_bytes(skb, off, &raw, sizeof(raw)) < 0)
		return -1;
	*v = bpf_ntohl(raw);
	return 0;
}

/* Adds add to the 32-bit field at off, fixing the checksum at csum_off. */
static __always_inline int add32(struct __sk_buff *skb, __u32 off, __u32 csum_off, __u32 add)
{
	__be32 old, new;

	if (bpf_skb_load_bytes(skb, off, &old, sizeof(old)) < 0)
		return -1;
	new = bpf_htonl(bpf_ntohl(old) + add);
	if (bpf_l4_csum_replace(skb, csum_off, old, new, sizeof(new)) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0) < 0)
		return -1;
	return 0;
}

/*
 * Ingress TCP of a learnable flow (server role, label already checked):
 * learns as learn() always did, moves the splice state, and says what to
 * rewrite after the pop in *fix. rev is the tuple the server answers with,
 * l4off the TCP header in the labelled frame. Returns TC_ACT_SHOT to drop
 * (counted), TC_ACT_OK to go on.
 */
static __always_inline int splice_ingress(struct __sk_buff *skb, struct slb_flow_key *rev,
					  __u32 reply, __u32 l4off, int mark,
					  struct splice_fix *fix)
{
	struct tcp_head th = {};
	struct tcp_opts opts = {};
	struct slb_flow_value *val;
	__u32 delta, tsoff;

	if (tcp_head(skb, l4off, &th) < 0) {
		if (mark) {
			count(CNT_SPLICE_BAD_MARK);
			return TC_ACT_SHOT;
		}
		learn(rev, reply, LEARN_KEEP, 0);
		return TC_ACT_OK;
	}
	if ((th.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		if (!mark) {
			learn(rev, reply, LEARN_PLAIN_SYN, 0);
			return TC_ACT_OK;
		}
		tcp_options(skb, l4off, th.hdrlen, &opts);
		learn(rev, reply, LEARN_SPLICE_SYN, opts.have);
		return TC_ACT_OK;
	}
	val = learn(rev, reply, LEARN_KEEP, 0);
	/* Plain sessions stop here: no option walk. */
	if (!mark && (!val || val->splice == SPLICE_NONE))
		return TC_ACT_OK;
	tcp_options(skb, l4off, th.hdrlen, &opts);
	if (mark) {
		struct slb_flow_value next;
		__u32 tsecr = 0;

		if (!val || val->splice != SPLICE_SYNACK_SEEN ||
		    (th.flags & (TCP_SYN | TCP_RST | TCP_ACK)) != TCP_ACK) {
			count(CNT_SPLICE_BAD_MARK);
			return TC_ACT_SHOT;
		}
		next = *val;
		next.splice = SPLICE_ACTIVE;
		next.delta = th.ack - 1 - val->server_isn;
		next.tsoff = 0;
		if ((opts.have & OPT_TS) && (val->synack_opts & OPT_TS)) {
			if (load32(skb, l4off + opts.ts_at + 4, &tsecr) < 0) {
				count(CNT_SPLICE_BAD_MARK);
				return TC_ACT_SHOT;
			}
			next.tsoff = tsecr - val->server_tsval;
		}
		/* A whole new value: the egress program on another CPU sees
		 * either the old state or ACTIVE with its deltas, never half. */
		if (bpf_map_update_elem(&slb_flows, rev, &next, BPF_EXIST) < 0) {
			count(CNT_ERRORS);
			return TC_ACT_SHOT;
		}
		count(CNT_SPLICE_LEARNED);
		delta = next.delta;
		tsoff = next.tsoff;
	} else {
		if (val->splice != SPLICE_ACTIVE) {
			/* Data or a retransmission that overtook the replayed
			 * ACK: the server would answer with a RST. The client
			 * retransmits. */
			count(CNT_SPLICE_EARLY_DROPPED);
			return TC_ACT_SHOT;
		}
		delta = val->delta;
		tsoff = val->tsoff;
	}
	fix->kind = FIX_TCP;
	fix->l4off = l4off - MPLS_HLEN;
	fix->ack = !!(th.flags & TCP_ACK);
	fix->ts_at = (opts.have & OPT_TS) ? opts.ts_at : 0;
	fix->sack_at = opts.sack_at;
	fix->sack_blocks = opts.sack_blocks;
	fix->delta = delta;
	fix->tsoff = tsoff;
	return TC_ACT_OK;
}

/*
 * An ICMP/ICMPv6 error in a labelled frame (outer IP at off, proto the
 * inner ethertype): when it quotes a TCP segment of an ACTIVE flow (the
 * quoted packet is one the server sent, so its tuple is the flow key as is),
 * fills *fix to translate the quoted seq after the pop.
 */
static __always_inline void splice_icmp(struct __sk_buff *skb, __u32 off, __u16 proto,
					struct splice_fix *fix)
{
	struct slb_flow_key key = {};
	struct slb_flow_value *val;
	__u32 l4off, inner, tcp;
	__u8 type;
	__be16 ports[2];

	if (proto == ETH_P_IP) {
		struct iphdr ip, in;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0)
			return;
		if (ip.version != 4 || ip.ihl < 5 || ip.protocol != IPPROTO_ICMP ||
		    (bpf_ntohs(ip.frag_off) & IP_OFFSET))
			return;
		l4off = off + ip.ihl * 4;
		if (bpf_skb_load_bytes(skb, l4off, &type, 1) < 0)
			return;
		/* destination unreachable, time exceeded, parameter problem */
		if (type != 3 && type != 11 && type != 12)
			return;
		inner = l4off + 8;
		if (bpf_skb_load_bytes(skb, inner, &in, sizeof(in)) < 0)
			return;
		if (in.version != 4 || in.ihl < 5 || in.protocol != IPPROTO_TCP ||
		    (bpf_ntohs(in.frag_off) & IP_OFFSET))
			return;
		key.family = 4;
		key.saddr[0] = in.saddr;
		key.daddr[0] = in.daddr;
		tcp = inner + in.ihl * 4;
	} else {
		struct ipv6hdr ip6, in6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0)
			return;
		if (ip6.version != 6 || ip6.nexthdr != IPPROTO_ICMPV6)
			return;
		l4off = off + sizeof(ip6);
		if (bpf_skb_load_bytes(skb, l4off, &type, 1) < 0)
			return;
		/* destination unreachable, packet too big, time exceeded,
		 * parameter problem */
		if (type < 1 || type > 4)
			return;
		inner = l4off + 8;
		if (bpf_skb_load_bytes(skb, inner, &in6, sizeof(in6)) < 0)
			return;
		if (in6.version != 6 || in6.nexthdr != IPPROTO_TCP)
			return;
		key.family = 6;
		__builtin_memcpy(key.saddr, &in6.saddr, 16);
		__builtin_memcpy(key.daddr, &in6.daddr, 16);
		tcp = inner + sizeof(in6);
	}
	/* ICMP quotes at least 8 bytes of the transport header: ports, seq. */
	if (bpf_skb_load_bytes(skb, tcp, ports, sizeof(ports)) < 0)
		return;
	key.proto = IPPROTO_TCP;
	key.sport = ports[0];
	key.dport = ports[1];
	val = bpf_map_lookup_elem(&slb_flows, &key);
	if (!val || val->splice != SPLICE_ACTIVE)
		return;
	fix->kind = FIX_ICMP;
	fix->l4off = l4off - MPLS_HLEN;
	fix->seq_at = tcp + 4 - MPLS_HLEN;
	fix->delta = val->delta;
}

/* Applies *fix to the popped packet. Returns -1 on a helper failure (the
 * packet may be half rewritten: drop it). */
static __always_inline int splice_apply(struct __sk_buff *skb, const struct splice_fix *fix)
{
	__u32 l4off = fix->l4off;
	__u32 csum = l4off + 16; /* TCP checksum */
	__u32 b;

	if (fix->kind == FIX_ICMP) {
		if (fix->delta && add32(skb, fix->seq_at, l4off + 2, -fix->delta) < 0)
			return -1;
		count(CNT_SPLICE_ICMP_TRANSLATED);
		return 0;
	}
	if (fix->kind != FIX_TCP)
		return 0;
	if (fix->ack && fix->delta && add32(skb, l4off + 8, csum, -fix->delta) < 0)
		return -1;
	if (fix->ack && fix->ts_at && fix->tsoff &&
	    add32(skb, l4off + fix->ts_at + 4, csum, -fix->tsoff) < 0)
		return -1;
	if (!fix->delta)
		return 0;
#pragma unroll
	for (b = 0; b < SACK_BLOCKS_MAX; b++) {
		__u32 at = l4off + fix->sack_at + 8 * b;

		if (b >= fix->sack_blocks)
			break;
		if (add32(skb, at, csum, -fix->delta) < 0)
			return -1;
		if (add32(skb, at + 4, csum, -fix->delta) < 0)
			return -1;
	}
	return 0;
}

/*
 * Egress TCP of a flow with splice state (val, key as sent). A SYN-ACK while
 * waiting records the server's ISN and TSval; segments of an ACTIVE flow are
 * translated in place (before the push: offsets are those of the plain IP
 * packet). Returns -1 on a helper failure in the middle of a rewrite.
 */
static __always_inline int splice_egress(struct __sk_buff *skb, struct slb_flow_key *key,
					 struct slb_flow_value *val, __u32 l4off)
{
	struct tcp_head th = {};
	struct tcp_opts opts = {};
	__u32 delta = val->delta, tsoff = val->tsoff;

	if (tcp_head(skb, l4off, &th) < 0)
		return 0;
	if (val->splice == SPLICE_ACTIVE) {
		if (delta && add32(skb, l4off + 4, l4off + 16, delta) < 0)
			return -1;
		if (!tsoff)
			return 0;
		tcp_options(skb, l4off, th.hdrlen, &opts);
		if ((opts.have & OPT_TS) && add32(skb, l4off + opts.ts_at, l4off + 16, tsoff) < 0)
			return -1;
		return 0;
	}
	if ((val->splice == SPLICE_AWAIT_SYNACK || val->splice == SPLICE_SYNACK_SEEN) &&
	    (th.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		struct slb_flow_value next = *val;

		tcp_options(skb, l4off, th.hdrlen, &opts);
		next.splice = SPLICE_SYNACK_SEEN;
		next.server_isn = th.seq;
		next.server_tsval = 0;
		next.synack_opts = opts.have;
		if ((opts.have & OPT_TS) && load32(skb, l4off + opts.ts_at, &next.server_tsval) < 0)
			next.synack_opts &= ~OPT_TS;
		/* slbd told the client yes to these: the server must agree. */
		if (val->syn_opts & ~next.synack_opts & (OPT_TS | OPT_SACK_PERM | OPT_WS))
			count(CNT_SPLICE_OPTION_MISMATCH);
		if (bpf_map_update_elem(&slb_flows, key, &next, BPF_EXIST) < 0)
			count(CNT_ERRORS);
	}
	return 0;
}
