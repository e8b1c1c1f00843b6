//! From the document as written to a validated `Config`: every rule of the
//! schema, every error collected (slbd refuses to start on any, and the
//! operator should see them all in one go).
//!
//! One module per section of the document, checked in the order the
//! sections are listed here (so errors come out in that order):
//! - `ports`: names, devices, addresses, MTUs, roles;
//! - `labels`: the MPLS label range;
//! - `timeouts`: session idle timeouts;
//! - `neighbours`: static neighbours on the ports' subnets;
//! - `control`: control socket and metrics listener;
//! - `icmp`: echo answers and the ICMP rate limits;
//! - `services`: VIPs, health checks and servers; `access`: their allow
//!   and deny lists; `health`: each service's health check;
//! - `cluster`: this instance, the others, the label slices;
//! - `checker`: the error collector and the checks the sections share.

mod access;
mod checker;
mod cluster;
mod control;
mod health;
mod icmp;
mod l7;
mod labels;
mod neighbours;
mod ports;
mod services;
mod timeouts;

use crate::document::Document;
use crate::error::ConfigErrors;
use crate::model::Config;
use checker::Checker;

pub(crate) fn validate(doc: &Document) -> Result<Config, ConfigErrors> {
    let mut c = Checker { errors: Vec::new() };
    let ports = ports::ports(&mut c, &doc.ports);
    let labels = labels::labels(&mut c, doc.labels.as_ref());
    let timeouts = timeouts::timeouts(&mut c, doc.timeouts.as_ref());
    let neighbours = neighbours::neighbours(&mut c, &doc.neighbours, &ports);
    let control = control::control(&mut c, doc.control.as_ref());
    let icmp = icmp::icmp(&mut c, doc.icmp.as_ref());
    let services = services::services(&mut c, &doc.services, &ports);
    let cluster = doc
        .cluster
        .as_ref()
        .map(|d| cluster::cluster(&mut c, d, &labels, &ports));
    if c.errors.is_empty() {
        Ok(Config {
            ports,
            labels,
            timeouts,
            neighbours,
            control,
            icmp,
            services,
            cluster,
        })
    } else {
        Err(ConfigErrors(c.errors))
    }
}
