//! Fuzz the control protocol's request decoding, as slbd reads a line:
//! `decode_line` on arbitrary bytes must never panic, and a request it
//! accepts must come back the same through `Request::to_line` (what slbctl
//! sends) and through `Request`'s `Deserialize` (a request object), and so
//! must its id unless it is a float (see below).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_proto::{decode_line, Request};

fuzz_target!(|data: &[u8]| {
    let (id, decoded) = decode_line(data);
    let request = match decoded {
        Ok(r) => r,
        Err(e) => {
            let _ = serde_json::to_string(&e);
            return;
        }
    };
    let line = request.to_line(id.clone());
    let (id2, again) = decode_line(line.as_bytes());
    // A float id is echoed only as closely as serde_json's default float
    // parsing reads it back (exactly with its `float_roundtrip` feature):
    // 184467440737047758080 reads as 1.8446744073704774e20, which is
    // written so and reads back as 1.8446744073704777e20.
    if !id.is_f64() {
        assert_eq!(id2, id, "id changed through {line}");
    }
    assert_eq!(
        again.as_ref(),
        Ok(&request),
        "request changed through {line}"
    );
    let object: Request =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line} does not deserialize: {e}"));
    assert_eq!(
        object, request,
        "Deserialize differs from decode_line: {line}"
    );
});
