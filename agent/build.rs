//! Compiles the eBPF classifier `bpf/slb_agent.bpf.c` with clang into
//! `$OUT_DIR/slb_agent.bpf.o`, which `src/program.rs` embeds.

use std::{env, path::PathBuf, process::Command};

const SOURCE: &str = "bpf/slb_agent.bpf.c";
/// Headers the source includes from its own directory.
const HEADERS: &[&str] = &["bpf/splice.h"];

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    for header in HEADERS {
        println!("cargo:rerun-if-changed={header}");
    }
    println!("cargo:rerun-if-env-changed=SLB_AGENT_CLANG");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let object = out.join("slb_agent.bpf.o");
    let clang = env::var("SLB_AGENT_CLANG").unwrap_or_else(|_| "clang".to_owned());
    let arch_include = format!("/usr/include/{}-linux-gnu", multiarch());

    let result = Command::new(&clang)
        .args(["-O2", "-g", "-Wall", "-Werror", "-target", "bpf"])
        .arg(format!("-I{arch_include}"))
        .arg("-c")
        .arg(SOURCE)
        .arg("-o")
        .arg(&object)
        .status();
    match result {
        Ok(status) if status.success() => {}
        Ok(status) => fail(&format!(
            "`{clang}` failed ({status}) compiling {SOURCE}; it needs <bpf/bpf_helpers.h> \
             from the Debian package `libbpf-dev` and <asm/types.h> from `linux-libc-dev` \
             (in {arch_include})"
        )),
        Err(e) => fail(&format!(
            "cannot run `{clang}` ({e}): install the Debian package `clang` (and `libbpf-dev` \
             for <bpf/bpf_helpers.h>), or point SLB_AGENT_CLANG at a clang with the BPF target"
        )),
    }
}

/// Debian's multiarch directory name for the build host, where <asm/types.h> lives.
fn multiarch() -> &'static str {
    match env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => "aarch64",
        _ => "x86_64",
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: slb-agent build: {message}");
    std::process::exit(1);
}
