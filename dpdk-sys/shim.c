/* One-line shims for DPDK macros that bindgen cannot reach. */
#include <rte_errno.h>

int slb_rte_errno(void) { return rte_errno; }
