//! Reading a request's `args` object, with the messages slbd answers:
//! each names the argument (with its path inside nested objects, e.g.
//! `servers[0].weight`) and says what it got.

use crate::error::ErrorBody;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// One `args` object (or an object nested in it).
pub(crate) struct Args<'a> {
    map: &'a Map<String, Value>,
    /// Path of this object inside `args`: empty, or `servers[0].`.
    at: String,
}

impl<'a> Args<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Args<'a> {
        Args {
            map,
            at: String::new(),
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.at)
    }

    /// The value of `name`; null counts as absent.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    fn required<T>(&self, name: &str, v: Option<T>) -> Result<T, ErrorBody> {
        v.ok_or_else(|| ErrorBody::invalid(format!("{}: required", self.path(name))))
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<String>, ErrorBody> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(ErrorBody::invalid(format!(
                "{}: must be a string (got {v})",
                self.path(name)
            ))),
        }
    }

    /// An array of strings (e.g. `allow[2]` in messages).
    pub fn opt_strs(&self, name: &str) -> Result<Option<Vec<String>>, ErrorBody> {
        let list = match self.get(name) {
            None => return Ok(None),
            Some(Value::Array(a)) => a,
            Some(v) => {
                return Err(ErrorBody::invalid(format!(
                    "{}: must be an array of strings (got {v})",
                    self.path(name)
                )))
            }
        };
        list.iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                v => Err(ErrorBody::invalid(format!(
                    "{}[{i}]: must be a string (got {v})",
                    self.path(name)
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    pub fn str(&self, name: &str) -> Result<String, ErrorBody> {
        let v = self.opt_str(name)?;
        self.required(name, v)
    }

    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, ErrorBody> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                ErrorBody::invalid(format!(
                    "{}: must be a non-negative integer (got {v})",
                    self.path(name)
                ))
            }),
        }
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ErrorBody> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| {
                ErrorBody::invalid(format!(
                    "{}: must be true or false (got {v})",
                    self.path(name)
                ))
            }),
        }
    }

    pub fn u64(&self, name: &str) -> Result<u64, ErrorBody> {
        let v = self.opt_u64(name)?;
        self.required(name, v)
    }

    /// A port number: at most 65535.
    pub fn opt_port(&self, name: &str) -> Result<Option<u16>, ErrorBody> {
        self.opt_u64(name)?
            .map(|v| {
                u16::try_from(v).map_err(|_| {
                    ErrorBody::invalid(format!("{}: at most 65535 (got {v})", self.path(name)))
                })
            })
            .transpose()
    }

    pub fn opt_ip(&self, name: &str) -> Result<Option<IpAddr>, ErrorBody> {
        self.opt_str(name)?
            .map(|s| {
                s.parse().map_err(|_| {
                    ErrorBody::invalid(format!("{}: not an IP address: {s}", self.path(name)))
                })
            })
            .transpose()
    }

    /// A nested object; its arguments are named `name.field`.
    pub fn opt_object(&self, name: &str) -> Result<Option<Args<'a>>, ErrorBody> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Args {
                map: m,
                at: format!("{}.", self.path(name)),
            })),
            Some(v) => Err(ErrorBody::invalid(format!(
                "{}: must be an object (got {v})",
                self.path(name)
            ))),
        }
    }

    /// An array of objects; the arguments of the i-th are named
    /// `name[i].field`.
    pub fn objects(&self, name: &str) -> Result<Vec<Args<'a>>, ErrorBody> {
        let list = match self.get(name) {
            None => return Err(ErrorBody::invalid(format!("{}: required", self.path(name)))),
            Some(Value::Array(a)) => a,
            Some(v) => {
                return Err(ErrorBody::invalid(format!(
                    "{}: must be an array (got {v})",
                    self.path(name)
                )))
            }
        };
        list.iter()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("{}[{i}]", self.path(name));
                match v {
                    Value::Object(m) => Ok(Args {
                        map: m,
                        at: format!("{at}."),
                    }),
                    v => Err(ErrorBody::invalid(format!(
                        "{at}: must be an object (got {v})"
                    ))),
                }
            })
            .collect()
    }

    /// Refuses any field not in `known` (configuration fragments: the
    /// configuration file refuses unknown fields too).
    pub fn only(&self, known: &[&str]) -> Result<(), ErrorBody> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(ErrorBody::invalid(format!(
                "{}: unknown field (expected one of {})",
                self.path(k),
                known.join(", ")
            ))),
        }
    }
}
