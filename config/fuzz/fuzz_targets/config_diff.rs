//! Fuzz the reload diff with pairs of parsed configurations: the input is
//! two documents separated by a NUL byte (old, then new; without a NUL the
//! document is the new one). Each one that validates is diffed both ways
//! against the other and against every `config/examples` file.
//!
//! Besides never panicking, the diff must be exact: it is empty if and only
//! if the two configurations are equal once services and servers, which it
//! matches by name, are put in name order; its text is empty if and only
//! if it is; services added one way are removed the other way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_config::Config;
use std::sync::OnceLock;

const EXAMPLES: &[&str] = &[
    include_str!("../../examples/minimal.json"),
    include_str!("../../examples/demo.json"),
    include_str!("../../examples/lab.json"),
    include_str!("../../examples/bench-label.json"),
    include_str!("../../examples/bench-mix.json"),
    include_str!("../../examples/bench-new.json"),
    include_str!("../../examples/bench-plain.json"),
];

fuzz_target!(|data: &[u8]| {
    let (old, new) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[][..], data),
    };
    let fuzzed: Vec<Config> = [old, new]
        .into_iter()
        .filter_map(|d| std::str::from_utf8(d).ok())
        .filter_map(|s| Config::from_json_str(s).ok())
        .collect();
    if fuzzed.is_empty() {
        return;
    }
    static PARSED: OnceLock<Vec<Config>> = OnceLock::new();
    let examples = PARSED.get_or_init(|| {
        EXAMPLES
            .iter()
            .map(|s| Config::from_json_str(s).expect("the examples validate"))
            .collect()
    });
    if let [a, b] = &fuzzed[..] {
        check(a, b);
    }
    for f in &fuzzed {
        for e in examples {
            check(e, f);
        }
    }
});

/// `old` to `new` and back.
fn check(old: &Config, new: &Config) {
    let there = old.diff(new);
    let back = new.diff(old);
    let same = by_name(old.clone()) == by_name(new.clone());
    assert_eq!(
        there.is_empty(),
        same,
        "diff {there:?}, equal by name: {same}"
    );
    assert_eq!(
        back.is_empty(),
        same,
        "diff {back:?}, equal by name: {same}"
    );
    assert_eq!(there.to_string().is_empty(), there.is_empty(), "{there:?}");
    assert_eq!(there.needs_restart(), back.needs_restart());
    assert_eq!(
        sorted(&there.services_added),
        sorted(&back.services_removed)
    );
    assert_eq!(
        sorted(&there.services_removed),
        sorted(&back.services_added)
    );
}

/// Services and servers in name order (names are unique in a valid file).
fn by_name(mut c: Config) -> Config {
    c.services.sort_by(|a, b| a.name.cmp(&b.name));
    for s in &mut c.services {
        s.servers.sort_by(|a, b| a.name.cmp(&b.name));
    }
    c
}

fn sorted(names: &[String]) -> Vec<&String> {
    let mut v: Vec<&String> = names.iter().collect();
    v.sort();
    v
}
