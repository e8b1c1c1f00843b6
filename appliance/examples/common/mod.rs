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

/// A TLS record with a ClientHello of `len` bytes in all (SNI `sni`, ALPN
/// h2 and http/1.1, TLS 1.3, an X25519 key share, padding), as curl's
/// without a post-quantum group.
#[allow(dead_code)]
pub fn client_hello(sni: &str, len: usize) -> Vec<u8> {
    fn put(ext: &mut Vec<u8>, ty: u16, body: &[u8]) {
        ext.extend(ty.to_be_bytes());
        ext.extend((body.len() as u16).to_be_bytes());
        ext.extend(body);
    }
    let mut ext = Vec::new();
    let name = sni.as_bytes();
    let mut sn = ((name.len() + 3) as u16).to_be_bytes().to_vec();
    sn.push(0);
    sn.extend((name.len() as u16).to_be_bytes());
    sn.extend(name);
    put(&mut ext, 0, &sn);
    let alpn = b"\x02h2\x08http/1.1";
    let mut a = (alpn.len() as u16).to_be_bytes().to_vec();
    a.extend(alpn);
    put(&mut ext, 16, &a);
    put(&mut ext, 43, &[4, 3, 4, 3, 3]);
    put(&mut ext, 10, &[0, 4, 0, 0x1d, 0, 0x17]);
    let mut ks = vec![0, 36, 0, 0x1d, 0, 32];
    ks.extend([0x55; 32]);
    put(&mut ext, 51, &ks);
    put(&mut ext, 13, &[0, 4, 4, 3, 8, 4]);
    // Record 5 + handshake 4 + version 2 + random 32 + session id 33 +
    // suites 4 + compression 2 + extensions' length 2, then the padding
    // extension's own 4.
    let fixed = 5 + 4 + 2 + 32 + 33 + 4 + 2 + 2;
    let pad = len.saturating_sub(fixed + ext.len() + 4);
    put(&mut ext, 21, &vec![0; pad]);
    let mut body = vec![3, 3];
    body.extend([0x42; 32]);
    body.push(32);
    body.extend([0x17; 32]);
    body.extend([0, 2, 0x13, 0x01, 1, 0]);
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![1, 0];
    hs.extend((body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}
