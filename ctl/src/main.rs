//! slbctl: the control tool for slbd (its control socket protocol is the
//! `slb-proto` crate, documented in docs/operations.md).
//!
//! Modules: [`cli`] (the command line and the request each command
//! sends), [`watch`] (`stats --watch`); the text output is
//! `slb_ctl::render`.

mod cli;
mod watch;

use clap::Parser;
use cli::{Action, Cli};
use slb_ctl::client::{decode_reply, CallError, Client};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                CallError::Remote(b) => eprintln!("slbctl: {} ({})", b.message, b.code),
                other => eprintln!("slbctl: {other}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn run(cli: &Cli) -> Result<(), CallError> {
    let mut c = Client::connect(&cli.socket)?;
    match cli.action()? {
        Action::Watch { count, interval } => watch::watch(&mut c, count, interval),
        Action::Raw { command, args } => {
            print_json(&c.call(&command, args)?);
            Ok(())
        }
        Action::Checked {
            command,
            args,
            typed,
        } => {
            let r = c.call(command, args)?;
            match typed {
                Some(req) if !cli.json => {
                    print!("{}", slb_ctl::render::render(&decode_reply(&req, r)?))
                }
                _ => print_json(&r),
            }
            Ok(())
        }
        Action::Request(req) => {
            let r = c.send(&req)?;
            if cli.json {
                print_json(&r);
            } else {
                print!("{}", slb_ctl::render::render(&decode_reply(&req, r)?));
            }
            Ok(())
        }
    }
}
