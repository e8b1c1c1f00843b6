//! Fuzz the configuration parser with arbitrary documents: reading and
//! validating must never panic, every error must print, and a document
//! that validates must survive `to_json_pretty` (parsing the emitted JSON
//! gives back an equal `Config`, as `Config::to_json_pretty` promises) and
//! diff as unchanged against itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json_str(json) {
        Err(errors) => {
            let _ = errors.to_string();
        }
        Ok(config) => {
            let emitted = config.to_json_pretty();
            let again = Config::from_json_str(&emitted)
                .unwrap_or_else(|e| panic!("emitted configuration does not parse: {e}\n{emitted}"));
            assert_eq!(again, config, "to_json_pretty then parse changed it");
            let d = config.diff(&config);
            assert!(d.is_empty(), "a configuration differs from itself: {d}");
        }
    }
});
