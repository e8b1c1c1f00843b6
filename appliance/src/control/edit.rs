//! Change commands as edits of the running configuration document
//! (`services.add`, `servers.drain`, ...): the control thread edits the
//! JSON document, `slb-config` validates the result (errors name the JSON
//! path), and the scheduler applies the difference (`super::apply`).

use serde_json::Value;
use slb_ctl::protocol::{code, ErrorBody};

fn err(c: &str, m: impl Into<String>) -> ErrorBody {
    ErrorBody::new(c, m)
}

fn req_str<'a>(args: &'a Value, name: &str) -> Result<&'a str, ErrorBody> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(err(code::INVALID_ARGUMENT, format!("{name}: required"))),
        Some(v) => Err(err(
            code::INVALID_ARGUMENT,
            format!("{name}: must be a string (got {v})"),
        )),
    }
}

fn services_mut(doc: &mut Value) -> Result<&mut Vec<Value>, ErrorBody> {
    doc.get_mut("services")
        .and_then(|s| s.as_array_mut())
        .ok_or_else(|| err(code::INTERNAL, "document without services"))
}

fn find_named(list: &[Value], name: &str) -> Option<usize> {
    list.iter()
        .position(|s| s.get("name").and_then(|n| n.as_str()) == Some(name))
}

/// Applies a change command to the configuration document. Returns what
/// was done, for the answer.
pub fn edit_document(doc: &mut Value, command: &str, args: &Value) -> Result<String, ErrorBody> {
    let services = services_mut(doc)?;
    if command.starts_with("services.") {
        let name = req_str(args, "name")?.to_string();
        let at = find_named(services, &name);
        return match command {
            "services.add" => {
                if at.is_some() {
                    return Err(err(code::ALREADY_EXISTS, format!("service {name} exists")));
                }
                services.push(args.clone());
                Ok(format!("service {name} added"))
            }
            "services.remove" => {
                let i =
                    at.ok_or_else(|| err(code::UNKNOWN_SERVICE, format!("no service {name}")))?;
                services.remove(i);
                Ok(format!("service {name} removed"))
            }
            _ => {
                let i =
                    at.ok_or_else(|| err(code::UNKNOWN_SERVICE, format!("no service {name}")))?;
                let s = services[i]
                    .as_object_mut()
                    .ok_or_else(|| err(code::INTERNAL, "service not an object"))?;
                let fields = args
                    .as_object()
                    .ok_or_else(|| err(code::INVALID_ARGUMENT, "args: object"))?;
                if fields.contains_key("servers") {
                    return Err(err(
                        code::INVALID_ARGUMENT,
                        "servers: change servers with servers.add/remove/update",
                    ));
                }
                for (k, v) in fields {
                    if k != "name" {
                        s.insert(k.clone(), v.clone());
                    }
                }
                // A burst without a rate is an error: drop the written-out one.
                if s.get("new_sessions_per_s").and_then(|v| v.as_u64()) == Some(0)
                    && !fields.contains_key("burst")
                {
                    s.remove("burst");
                }
                Ok(format!("service {name} updated"))
            }
        };
    }
    let svc = req_str(args, "service")?.to_string();
    let si = find_named(services, &svc)
        .ok_or_else(|| err(code::UNKNOWN_SERVICE, format!("no service {svc}")))?;
    let servers = services[si]
        .get_mut("servers")
        .and_then(|s| s.as_array_mut())
        .ok_or_else(|| err(code::INTERNAL, "service without servers"))?;
    if command == "servers.add" {
        let name = req_str(args, "name")?.to_string();
        if find_named(servers, &name).is_some() {
            return Err(err(
                code::ALREADY_EXISTS,
                format!("service {svc} has a server {name}"),
            ));
        }
        let mut s = args.clone();
        if let Some(o) = s.as_object_mut() {
            o.remove("service");
        }
        servers.push(s);
        return Ok(format!("server {name} added to service {svc}"));
    }
    let name = req_str(args, "server")?.to_string();
    let vi = find_named(servers, &name).ok_or_else(|| {
        err(
            code::UNKNOWN_SERVER,
            format!("service {svc} has no server {name}"),
        )
    })?;
    match command {
        "servers.remove" => {
            servers.remove(vi);
            Ok(format!(
                "server {name} removed from service {svc} (its sessions finish first)"
            ))
        }
        "servers.update" => {
            let o = servers[vi]
                .as_object_mut()
                .ok_or_else(|| err(code::INTERNAL, "server not an object"))?;
            let mut changed = false;
            for k in ["weight", "max_sessions", "address", "state"] {
                if let Some(v) = args.get(k) {
                    o.insert(k.into(), v.clone());
                    changed = true;
                }
            }
            if !changed {
                return Err(err(
                    code::INVALID_ARGUMENT,
                    "nothing to update: give weight, max_sessions, address or state",
                ));
            }
            Ok(format!("server {name} of service {svc} updated"))
        }
        _ => {
            let state = match command {
                "servers.drain" => "drain",
                "servers.enable" => "up",
                _ => "disabled",
            };
            servers[vi]["state"] = state.into();
            Ok(format!("server {name} of service {svc}: {state}"))
        }
    }
}
