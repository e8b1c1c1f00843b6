//! Fuzz the decoding of slbd's answers as slbctl does it: the input is a
//! request line, a newline, and a response line. The request is decoded
//! (`decode_line`); the response is read as a `Response`, its result
//! decoded into the request's `Reply` (`Request::reply`) and rendered as
//! slbctl prints it. None of it may panic; a reply that decodes, written
//! back to JSON as slbd would send it, must decode to the same reply.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slb_proto::{decode_line, Response};

fuzz_target!(|data: &[u8]| {
    let Some(nl) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let (_, Ok(request)) = decode_line(&data[..nl]) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(&data[nl + 1..]) else {
        return;
    };
    let Ok(response) = serde_json::from_str::<Response>(text) else {
        return;
    };
    let Ok(result) = response.into_result() else {
        return;
    };
    let Ok(reply) = request.reply(result) else {
        return;
    };
    let _ = slb_ctl::render::render(&reply);
    let written = serde_json::to_value(&reply).expect("a reply serializes");
    let again = request.reply(written.clone()).unwrap_or_else(|e| {
        panic!(
            "{} result {written} does not decode: {e}",
            request.command()
        )
    });
    assert_eq!(again, reply, "written back as {written}");
});
