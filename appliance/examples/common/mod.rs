//! What the cost harnesses (`admission_cost`, `fastpath_cost`,
//! `splice_cost`) share: their arguments, and slbd's data path assembled
//! on `VecFrame`s with one worker, as the golden rig assembles it.

use slb_appliance::datapath::{assemble, DataPath, QueueSizes};
use slb_appliance::frame::VecFrame;
use slb_config::Config;

/// The command line after the program's name, exactly `usage`'s count of
/// words, or the usage line and exit status 2.
pub fn args(usage: &str) -> Vec<String> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != usage.split_whitespace().count() - 1 {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    }
    a
}

/// Port `i`'s MAC in the harnesses: 02:5b:00:00:00:(i+1).
pub fn port_mac(i: usize) -> [u8; 6] {
    [2, 0x5b, 0, 0, 0, i as u8 + 1]
}

/// The configuration at `path` and its data path: one worker, port MACs
/// [`port_mac`].
pub fn data_path(path: &str) -> (Config, DataPath<VecFrame>) {
    let cfg = Config::from_file(std::path::Path::new(path)).expect("config");
    let macs: Vec<[u8; 6]> = (0..cfg.ports.len()).map(port_mac).collect();
    let dp = assemble::<VecFrame>(
        &cfg,
        1,
        &macs,
        QueueSizes::default(),
        Box::new(|b: &[u8]| Some(VecFrame::new(b))),
    )
    .expect("assemble");
    (cfg, dp)
}
