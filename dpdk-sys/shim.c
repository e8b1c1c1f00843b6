/* One-line shims for DPDK macros that bindgen cannot reach. */
#include <stdint.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

int slb_rte_errno(void) { return rte_errno; }

/* RTE_ETH_RSS_* are built with the RTE_BIT64() function-like macro. */
uint64_t slb_eth_rss_ip_tcp_udp(void) { return RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP; }
