use super::{DpdkError, Mempool, PacketBatch};
use slb_dpdk_sys as sys;
use std::ffi::{CStr, CString};

/// How to bring a port up.
#[derive(Debug, Clone)]
pub struct PortConfig {
    pub rx_queues: u16,
    pub tx_queues: u16,
    pub rx_desc: u16,
    pub tx_desc: u16,
    /// None keeps the device's default MTU.
    pub mtu: Option<u16>,
    pub promiscuous: bool,
}

impl Default for PortConfig {
    fn default() -> Self {
        PortConfig {
            rx_queues: 1,
            tx_queues: 1,
            rx_desc: 1024,
            tx_desc: 1024,
            mtu: None,
            promiscuous: true,
        }
    }
}

/// Link state as the driver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub up: bool,
    pub speed_mbps: u32,
    pub full_duplex: bool,
}

/// The device's own counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Dropped by the device because no RX descriptor was free.
    pub rx_missed: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    /// RX failures for lack of mbufs.
    pub rx_nombuf: u64,
}

/// A configured ethdev port. Shared read-only by the lcores; each lcore uses
/// only its own queues, which is what makes RX/TX lock-free.
#[derive(Debug)]
pub struct Port {
    id: u16,
    name: String,
    driver: String,
    rx_queues: u16,
    tx_queues: u16,
    rss: bool,
    mac: [u8; 6],
}

impl Port {
    /// Number of ports EAL probed (virtual devices included).
    pub fn count() -> u16 {
        // SAFETY: plain query; EAL is up.
        unsafe { sys::rte_eth_dev_count_avail() }
    }

    /// The port id of a device name such as `net_pcap0` or `0000:01:00.0`.
    pub fn id_by_name(name: &str) -> Result<u16, DpdkError> {
        let cname = CString::new(name)
            .map_err(|_| DpdkError::Invalid(format!("port name {name:?} contains NUL")))?;
        let mut id = 0u16;
        // SAFETY: cname is valid for the call; id is a valid out-pointer.
        let rc = unsafe { sys::rte_eth_dev_get_port_by_name(cname.as_ptr(), &mut id) };
        if rc != 0 {
            return Err(DpdkError::Invalid(format!(
                "no DPDK port named {name:?} (known: {})",
                Self::names().join(", ")
            )));
        }
        Ok(id)
    }

    /// Names of all probed ports, in port-id order.
    pub fn names() -> Vec<String> {
        let mut out = Vec::new();
        for id in 0..sys::RTE_MAX_ETHPORTS as u16 {
            if let Some(n) = Self::name_of(id) {
                out.push(n);
            }
        }
        out
    }

    fn name_of(id: u16) -> Option<String> {
        let mut buf = [0 as std::os::raw::c_char; 64];
        // SAFETY: buf is a writable 64-byte buffer (RTE_ETH_NAME_MAX_LEN).
        let rc = unsafe { sys::rte_eth_dev_get_name_by_port(id, buf.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: DPDK wrote a NUL-terminated string into buf.
        Some(
            unsafe { CStr::from_ptr(buf.as_ptr()) }
                .to_string_lossy()
                .into_owned(),
        )
    }

    /// Configures queues (RSS over IP/TCP/UDP when there are several RX
    /// queues and the device supports it) and sets the MTU. Call
    /// [`Port::start`] afterwards.
    pub fn configure(id: u16, cfg: &PortConfig, pool: &Mempool) -> Result<Port, DpdkError> {
        let name = Self::name_of(id).ok_or_else(|| DpdkError::Invalid(format!("no port {id}")))?;
        let mut info = sys::rte_eth_dev_info::default();
        // SAFETY: info is a valid out-struct; id names a probed port.
        let rc = unsafe { sys::rte_eth_dev_info_get(id, &mut info) };
        if rc != 0 {
            return Err(DpdkError::call(
                format!("port {name}: reading device info"),
                rc,
            ));
        }
        let driver = if info.driver_name.is_null() {
            String::from("?")
        } else {
            // SAFETY: driver_name is a static NUL-terminated string in the PMD.
            unsafe { CStr::from_ptr(info.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        if cfg.rx_queues > info.max_rx_queues || cfg.tx_queues > info.max_tx_queues {
            return Err(DpdkError::Invalid(format!(
                "port {name} ({driver}): needs {} RX and {} TX queues, the device has {} and {}",
                cfg.rx_queues, cfg.tx_queues, info.max_rx_queues, info.max_tx_queues
            )));
        }

        let mut conf = sys::rte_eth_conf::default();
        // SAFETY: a constant computed in C from DPDK's RSS macros.
        let wanted_rss = unsafe { sys::slb_eth_rss_ip_tcp_udp() };
        let rss_hf = wanted_rss & info.flow_type_rss_offloads;
        let rss = cfg.rx_queues > 1 && rss_hf != 0;
        if rss {
            conf.rxmode.mq_mode = sys::rte_eth_rx_mq_mode_RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
        } else if cfg.rx_queues > 1 {
            tracing::warn!(
                port = %name,
                driver = %driver,
                "device has no RSS over IP/TCP/UDP; each RX queue gets only what the device puts on it"
            );
        }
        // SAFETY: conf is fully initialised; queue counts were checked above.
        let rc = unsafe { sys::rte_eth_dev_configure(id, cfg.rx_queues, cfg.tx_queues, &conf) };
        if rc != 0 {
            return Err(DpdkError::call(format!("port {name}: configure"), rc));
        }
        let (mut nb_rx, mut nb_tx) = (cfg.rx_desc, cfg.tx_desc);
        // SAFETY: valid out-pointers; the driver clamps to its limits.
        let rc = unsafe { sys::rte_eth_dev_adjust_nb_rx_tx_desc(id, &mut nb_rx, &mut nb_tx) };
        if rc != 0 {
            return Err(DpdkError::call(
                format!("port {name}: adjust descriptors"),
                rc,
            ));
        }
        // SAFETY: plain query on a configured port.
        let socket = unsafe { sys::rte_eth_dev_socket_id(id) };
        let socket = if socket < 0 { 0 } else { socket as u32 };
        for q in 0..cfg.rx_queues {
            // SAFETY: the pool outlives the port (pools are never freed);
            // a null rx_conf asks for the driver's defaults.
            let rc = unsafe {
                sys::rte_eth_rx_queue_setup(id, q, nb_rx, socket, std::ptr::null(), pool.as_ptr())
            };
            if rc != 0 {
                return Err(DpdkError::call(
                    format!("port {name}: RX queue {q} setup"),
                    rc,
                ));
            }
        }
        for q in 0..cfg.tx_queues {
            // SAFETY: as above, default tx_conf.
            let rc = unsafe { sys::rte_eth_tx_queue_setup(id, q, nb_tx, socket, std::ptr::null()) };
            if rc != 0 {
                return Err(DpdkError::call(
                    format!("port {name}: TX queue {q} setup"),
                    rc,
                ));
            }
        }
        if let Some(mtu) = cfg.mtu {
            // SAFETY: plain call on a configured port.
            let rc = unsafe { sys::rte_eth_dev_set_mtu(id, mtu) };
            if rc != 0 {
                return Err(DpdkError::call(format!("port {name}: set MTU {mtu}"), rc));
            }
        }
        let mut mac = sys::rte_ether_addr::default();
        // SAFETY: mac is a valid out-struct.
        let rc = unsafe { sys::rte_eth_macaddr_get(id, &mut mac) };
        if rc != 0 {
            return Err(DpdkError::call(format!("port {name}: read MAC"), rc));
        }
        if cfg.promiscuous {
            // SAFETY: plain call; some virtual devices do not support it,
            // which is harmless for them (they deliver everything anyway).
            unsafe { sys::rte_eth_promiscuous_enable(id) };
        }
        Ok(Port {
            id,
            name,
            driver,
            rx_queues: cfg.rx_queues,
            tx_queues: cfg.tx_queues,
            rss,
            mac: mac.addr_bytes,
        })
    }

    /// Sets the device MTU (after configure, before or after start).
    pub fn set_mtu(&self, mtu: u16) -> Result<(), DpdkError> {
        // SAFETY: plain call on a configured port.
        let rc = unsafe { sys::rte_eth_dev_set_mtu(self.id, mtu) };
        if rc != 0 {
            return Err(DpdkError::call(
                format!("port {}: set MTU {mtu}", self.name),
                rc,
            ));
        }
        Ok(())
    }

    /// Sets the port's MAC (after configure). For `net_tap` the kernel
    /// interface takes it too.
    pub fn set_mac(&mut self, mac: [u8; 6]) -> Result<(), DpdkError> {
        let mut addr = sys::rte_ether_addr { addr_bytes: mac };
        // SAFETY: plain call on a configured port; addr is a valid
        // in-struct the call only reads.
        let rc = unsafe { sys::rte_eth_dev_default_mac_addr_set(self.id, &mut addr) };
        if rc != 0 {
            return Err(DpdkError::call(format!("port {}: set MAC", self.name), rc));
        }
        self.mac = mac;
        Ok(())
    }

    pub fn start(&self) -> Result<(), DpdkError> {
        // SAFETY: the port was configured with all its queues set up.
        let rc = unsafe { sys::rte_eth_dev_start(self.id) };
        if rc != 0 {
            return Err(DpdkError::call(format!("port {}: start", self.name), rc));
        }
        Ok(())
    }

    /// Stops the port. Lcores must no longer poll it.
    pub fn stop(&self) {
        // SAFETY: plain call; stopping a stopped port is harmless.
        unsafe {
            sys::rte_eth_dev_stop(self.id);
        }
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn driver(&self) -> &str {
        &self.driver
    }

    pub fn rx_queues(&self) -> u16 {
        self.rx_queues
    }

    pub fn tx_queues(&self) -> u16 {
        self.tx_queues
    }

    /// True when RX is spread over the queues by RSS.
    pub fn rss(&self) -> bool {
        self.rss
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    pub fn link(&self) -> Link {
        let mut l = sys::rte_eth_link::default();
        // SAFETY: l is a valid out-struct; nowait never blocks.
        unsafe { sys::rte_eth_link_get_nowait(self.id, &mut l) };
        // SAFETY: reading the bitfield accessors bindgen generated.
        Link {
            up: l.link_status() != 0,
            speed_mbps: l.link_speed,
            full_duplex: l.link_duplex() != 0,
        }
    }

    pub fn stats(&self) -> PortStats {
        let mut s = sys::rte_eth_stats::default();
        // SAFETY: s is a valid out-struct.
        unsafe { sys::rte_eth_stats_get(self.id, &mut s) };
        PortStats {
            rx_packets: s.ipackets,
            tx_packets: s.opackets,
            rx_bytes: s.ibytes,
            tx_bytes: s.obytes,
            rx_missed: s.imissed,
            rx_errors: s.ierrors,
            tx_errors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        }
    }

    /// Receives up to the batch's free space from RX queue `queue`.
    /// Only one lcore may poll a given queue.
    #[inline]
    pub fn rx_burst(&self, queue: u16, batch: &mut PacketBatch) -> usize {
        let (ptr, room) = batch.spare_ptr();
        // SAFETY: ptr addresses `room` writable slots of the batch; the
        // received mbufs become the batch's. Queue ownership per lcore is the
        // caller's contract (documented above), as DPDK requires.
        let n = unsafe { sys::rte_eth_rx_burst(self.id, queue, ptr, room) } as usize;
        batch.set_filled(n);
        n
    }

    /// Sends the batch on TX queue `queue` and frees what the queue refused,
    /// so a stalled port never blocks a poll loop. Returns (sent, dropped).
    #[inline]
    pub fn tx_burst_or_drop(&self, queue: u16, batch: &mut PacketBatch) -> (usize, usize) {
        let sent = self.tx_burst(queue, batch);
        let dropped = batch.len();
        if dropped > 0 {
            batch.drain().for_each(drop);
        }
        (sent, dropped)
    }

    /// Sends the batch on TX queue `queue`; what the device does not take
    /// stays in the batch (the caller retries or drops and counts it).
    #[inline]
    pub fn tx_burst(&self, queue: u16, batch: &mut PacketBatch) -> usize {
        let n = batch.len() as u16;
        if n == 0 {
            return 0;
        }
        // SAFETY: the first n slots hold owned mbufs; the device takes
        // ownership of the first `sent`, which we then forget.
        let sent = unsafe { sys::rte_eth_tx_burst(self.id, queue, batch.as_mut_ptr(), n) } as usize;
        batch.consume_front(sent);
        sent
    }
}
