//! `attach` and `detach`: load the object once, attach both programs with
//! clsact, pin; and undo all of it.

use std::path::Path;

use aya::maps::{Array, Map, MapData};
use aya::programs::tc::{self, NlOptions, SchedClassifier, TcAttachOptions, TcAttachType};
use aya::EbpfLoader;

use crate::error::AgentError;
use crate::ethtool;
use crate::netlink;
use crate::pins;
use crate::program::{
    Config, Role, CLUSTER_MAP, CONFIG_MAP, COUNTERS_MAP, EGRESS_PROGRAM, FLAG_CREATED_CLSACT,
    FLAG_TSO_TURNED_OFF, FLOWS_MAP, INGRESS_PROGRAM, OBJECT,
};

pub struct AttachOptions<'a> {
    pub netns: Option<&'a str>,
    pub iface: &'a str,
    pub role: Role,
    pub idle_timeout_secs: u64,
    pub max_flows: u32,
    pub replace: bool,
    /// Leave TSO as it is (the operator knows the device segments MPLS).
    pub keep_tso: bool,
}

/// What `attach` did to TSO, for its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsoChange {
    /// It was on; attach turned it off (detach turns it back on).
    TurnedOff,
    /// It was off already: nothing to do or undo.
    AlreadyOff,
    /// `--keep-tso`: not looked at.
    Kept,
    /// It is on and the device refuses to change it (the error).
    CannotChange(String),
}

/// Maps pinned beside the two programs.
const PINNED_MAPS: [&str; 4] = [FLOWS_MAP, COUNTERS_MAP, CONFIG_MAP, CLUSTER_MAP];

pub fn ifindex(iface: &str) -> Result<u32, AgentError> {
    let name = std::ffi::CString::new(iface)
        .map_err(|_| AgentError::Usage(format!("invalid interface name {iface:?}")))?;
    // SAFETY: name is NUL-terminated and lives across the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(AgentError::Iface {
            iface: iface.to_owned(),
            message: format!("no such interface ({})", std::io::Error::last_os_error()),
        });
    }
    Ok(index)
}

pub fn attach(opts: &AttachOptions) -> Result<TsoChange, AgentError> {
    let iface = opts.iface;
    let ifidx = ifindex(iface)?;
    let dir = pins::pin_dir(opts.netns, iface);
    if dir.exists() {
        if !opts.replace {
            return Err(AgentError::iface(
                iface,
                format!(
                    "already attached (pins in {}): run `slb-agent detach --iface {iface}` \
                     first, or attach with --replace",
                    dir.display()
                ),
            ));
        }
        detach(opts.netns, iface)?;
    }
    pins::ensure_bpffs()?;

    let mut ebpf = EbpfLoader::new()
        .map_max_entries(FLOWS_MAP, opts.max_flows)
        .load(OBJECT)
        .map_err(|e| AgentError::iface(iface, format!("loading the eBPF object: {e}")))?;

    // clsact: add it, or find that it is there already (then it is not ours
    // to remove on detach).
    let created_clsact = match tc::qdisc_add_clsact(iface) {
        Ok(()) => true,
        Err(tc::TcError::NetlinkError(e)) if e.raw_os_error() == Some(libc::EEXIST) => false,
        Err(e) => {
            return Err(AgentError::iface(
                iface,
                format!("adding the clsact qdisc: {e}"),
            ));
        }
    };
    // TSO off before the filters go on, so no labelled super-packet ever
    // leaves unsegmented (ethtool.rs explains why).
    let tso = if opts.keep_tso {
        TsoChange::Kept
    } else {
        match ethtool::tso_enabled(iface) {
            Ok(false) => TsoChange::AlreadyOff,
            Ok(true) => match ethtool::set_tso(iface, false) {
                Ok(()) => TsoChange::TurnedOff,
                Err(e) => TsoChange::CannotChange(format!("turning TSO off: {e}")),
            },
            // No ethtool support at all (some virtual devices): no TSO either.
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => TsoChange::AlreadyOff,
            Err(e) => TsoChange::CannotChange(format!("reading TSO state: {e}")),
        }
    };
    let result = configure_attach_pin(
        &mut ebpf,
        opts,
        &dir,
        created_clsact,
        tso == TsoChange::TurnedOff,
    );
    if let Err(e) = result {
        // Leave the interface as we found it.
        let _ = remove_filters(iface);
        if created_clsact {
            let _ = netlink::delete_clsact(ifidx);
        }
        if tso == TsoChange::TurnedOff {
            let _ = ethtool::set_tso(iface, true);
        }
        let _ = remove_pins(&dir);
        return Err(e);
    }
    Ok(tso)
}

fn configure_attach_pin(
    ebpf: &mut aya::Ebpf,
    opts: &AttachOptions,
    dir: &Path,
    created_clsact: bool,
    tso_turned_off: bool,
) -> Result<(), AgentError> {
    let iface = opts.iface;
    let fail =
        |step: &str, e: &dyn std::fmt::Display| AgentError::iface(iface, format!("{step}: {e}"));

    let config = Config {
        role: opts.role.to_raw(),
        flags: if created_clsact {
            FLAG_CREATED_CLSACT
        } else {
            0
        } | if tso_turned_off {
            FLAG_TSO_TURNED_OFF
        } else {
            0
        },
        idle_timeout_ns: opts.idle_timeout_secs.saturating_mul(1_000_000_000),
        // No cluster until `slb-agent cluster` writes one.
        ..Config::default()
    };
    {
        let map = ebpf
            .map_mut(CONFIG_MAP)
            .ok_or_else(|| fail("finding map", &CONFIG_MAP))?;
        let mut array: Array<&mut MapData, Config> =
            Array::try_from(map).map_err(|e| fail("opening the config map", &e))?;
        array
            .set(0, config, 0)
            .map_err(|e| fail("writing the config map", &e))?;
    }

    std::fs::create_dir_all(dir).map_err(|e| fail(&format!("creating {}", dir.display()), &e))?;
    for name in PINNED_MAPS {
        let map = ebpf.map(name).ok_or_else(|| fail("finding map", &name))?;
        map.pin(dir.join(name))
            .map_err(|e| fail(&format!("pinning map {name}"), &e))?;
    }

    for (name, hook) in [
        (EGRESS_PROGRAM, TcAttachType::Egress),
        (INGRESS_PROGRAM, TcAttachType::Ingress),
    ] {
        let prog: &mut SchedClassifier = ebpf
            .program_mut(name)
            .ok_or_else(|| fail("finding program", &name))?
            .try_into()
            .map_err(|e| fail(&format!("program {name}"), &e))?;
        prog.load()
            .map_err(|e| fail(&format!("loading program {name} (verifier)"), &e))?;
        prog.pin(dir.join(name))
            .map_err(|e| fail(&format!("pinning program {name}"), &e))?;
        // Netlink (clsact) rather than TCX links: the filter holds the
        // program after we exit, and `tc filter show` shows it.
        let link_id = prog
            .attach_with_options(iface, hook, TcAttachOptions::Netlink(NlOptions::default()))
            .map_err(|e| fail(&format!("attaching {name} to clsact {hook:?}"), &e))?;
        let link = prog
            .take_link(link_id)
            .map_err(|e| fail(&format!("keeping the {name} filter"), &e))?;
        // Dropping the link would delete the filter; it must outlive us.
        std::mem::forget(link);
    }
    Ok(())
}

/// Deletes our filters (found by name) from both hooks. Returns how many
/// hooks had one.
fn remove_filters(iface: &str) -> Result<usize, AgentError> {
    let mut removed = 0;
    for (name, hook) in [
        (INGRESS_PROGRAM, TcAttachType::Ingress),
        (EGRESS_PROGRAM, TcAttachType::Egress),
    ] {
        match tc::qdisc_detach_program(iface, hook, name) {
            Ok(()) => removed += 1,
            Err(tc::TcError::IoError(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            // No clsact qdisc at all: nothing of ours there.
            Err(tc::TcError::NetlinkError(e)) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => {
                return Err(AgentError::iface(
                    iface,
                    format!("removing the {name} filter: {e}"),
                ));
            }
        }
    }
    Ok(removed)
}

fn remove_pins(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    std::fs::remove_dir_all(dir)?;
    // Drop the empty parents we created, stopping at the first non-empty one.
    let root = Path::new(pins::BPFFS);
    let mut parent = dir.parent();
    while let Some(p) = parent {
        if p == root || std::fs::remove_dir(p).is_err() {
            break;
        }
        parent = p.parent();
    }
    Ok(())
}

/// Reads entry 0 of the pinned config map.
pub fn pinned_config(dir: &Path) -> Result<Config, String> {
    let open = || MapData::from_pin(dir.join(CONFIG_MAP)).map_err(|e| e.to_string());
    match Array::<MapData, Config>::try_from(Map::Array(open()?)) {
        Ok(array) => array.get(&0, 0).map_err(|e| e.to_string()),
        // Pinned by an slb-agent from before clusters: role, flags and idle
        // timeout only (16 bytes). Read so that `detach` still restores TSO
        // and removes its clsact, and `status` still works.
        Err(e) => {
            let old: Array<MapData, [u8; 16]> =
                Array::try_from(Map::Array(open()?)).map_err(|_| e.to_string())?;
            let b = old.get(&0, 0).map_err(|e| e.to_string())?;
            let word = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            let mut idle = [0u8; 8];
            idle.copy_from_slice(&b[8..16]);
            Ok(Config {
                role: word(0),
                flags: word(4),
                idle_timeout_ns: u64::from_ne_bytes(idle),
                ..Config::default()
            })
        }
    }
}

/// What `detach` did, for its one-line report.
pub struct Detached {
    pub filters: usize,
    pub removed_clsact: bool,
    pub had_pins: bool,
    /// TSO turned back on (attach had turned it off).
    pub tso_restored: bool,
}

pub fn detach(netns: Option<&str>, iface: &str) -> Result<Detached, AgentError> {
    let dir = pins::pin_dir(netns, iface);
    let had_pins = pins::bpffs_mounted() && dir.exists();
    let config = if had_pins {
        pinned_config(&dir).ok()
    } else {
        None
    };
    let ifidx = ifindex(iface);

    let mut filters = 0;
    let mut removed_clsact = false;
    let mut tso_restored = false;
    if let Ok(ifidx) = ifidx {
        if config.is_some_and(|c| c.flags & FLAG_TSO_TURNED_OFF != 0) {
            ethtool::set_tso(iface, true)
                .map_err(|e| AgentError::iface(iface, format!("turning TSO back on: {e}")))?;
            tso_restored = true;
        }
        filters = remove_filters(iface)?;
        let ours = config.is_some_and(|c| c.flags & FLAG_CREATED_CLSACT != 0);
        if ours {
            // Keep a clsact that someone else has put filters on since.
            let others = netlink::count_filters(ifidx, netlink::CLSACT_INGRESS)
                .and_then(|i| Ok(i + netlink::count_filters(ifidx, netlink::CLSACT_EGRESS)?))
                .map_err(|e| AgentError::iface(iface, format!("listing tc filters: {e}")))?;
            if others == 0 {
                netlink::delete_clsact(ifidx).map_err(|e| {
                    AgentError::iface(iface, format!("deleting the clsact qdisc: {e}"))
                })?;
                removed_clsact = true;
            }
        }
    }
    if had_pins {
        remove_pins(&dir).map_err(|e| {
            AgentError::iface(iface, format!("removing pins {}: {e}", dir.display()))
        })?;
    }
    if !had_pins && filters == 0 {
        // Nothing anywhere: say so, naming the interface (and whether it exists).
        ifidx?;
        return Err(AgentError::iface(
            iface,
            "slb-agent is not attached".to_owned(),
        ));
    }
    Ok(Detached {
        filters,
        removed_clsact,
        had_pins,
        tso_restored,
    })
}
