/* The DPDK headers slb binds to. Keep this list narrow: every header here
 * grows the bindings and the wrapper C file that cc compiles. */
#include <rte_config.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

/* rte_errno is a per-lcore variable behind a macro: bindgen cannot see it. */
int slb_rte_errno(void);

/* RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP. */
uint64_t slb_eth_rss_ip_tcp_udp(void);
