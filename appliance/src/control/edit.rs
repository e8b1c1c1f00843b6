//! Change commands as edits of the running configuration document
//! (`services.add`, `servers.drain`, ...): the control thread edits the
//! JSON document with the decoded request (`slb_proto`'s change
//! arguments, typed as the configuration file writes them), `slb-config`
//! validates the result (errors name the JSON path), and the scheduler
//! applies the difference (`super::apply`). Each function returns what
//! was done, for the answer.

use serde_json::{Map, Value};
use slb_config::ServerState;
use slb_proto::{
    code, ErrorBody, Request, ServerAdd, ServerRef, ServerUpdate, ServiceName, ServiceSpec,
    ServiceUpdate,
};

fn err(c: &str, m: impl Into<String>) -> ErrorBody {
    ErrorBody::new(c, m)
}

fn internal(e: impl std::fmt::Display) -> ErrorBody {
    err(code::INTERNAL, e.to_string())
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

fn unknown_service(name: &str) -> ErrorBody {
    err(code::UNKNOWN_SERVICE, format!("no service {name}"))
}

/// The servers of service `service` in the document.
fn servers_mut<'a>(doc: &'a mut Value, service: &str) -> Result<&'a mut Vec<Value>, ErrorBody> {
    let services = services_mut(doc)?;
    let si = find_named(services, service).ok_or_else(|| unknown_service(service))?;
    services[si]
        .get_mut("servers")
        .and_then(|s| s.as_array_mut())
        .ok_or_else(|| err(code::INTERNAL, "service without servers"))
}

/// Server `r.server` of service `r.service`: its list and index.
fn server_at<'a>(
    doc: &'a mut Value,
    r: &ServerRef,
) -> Result<(&'a mut Vec<Value>, usize), ErrorBody> {
    let servers = servers_mut(doc, &r.service)?;
    let vi = find_named(servers, &r.server).ok_or_else(|| {
        err(
            code::UNKNOWN_SERVER,
            format!("service {} has no server {}", r.service, r.server),
        )
    })?;
    Ok((servers, vi))
}

/// The edit of change command `r` on `doc`: what the control thread does
/// for a live request, and what `slbd --restore` replays. A request that
/// is not a change is an `invalid_argument` error.
pub fn change(doc: &mut Value, r: &Request) -> Result<String, ErrorBody> {
    match r {
        Request::ServicesAdd(s) => add_service(doc, s),
        Request::ServicesRemove(s) => remove_service(doc, s),
        Request::ServicesUpdate(u) => update_service(doc, u),
        Request::ServersAdd(a) => add_server(doc, a),
        Request::ServersRemove(s) => remove_server(doc, s),
        Request::ServersUpdate(u) => update_server(doc, u),
        Request::ServersDrain(s) => set_server_state(doc, s, ServerState::Drain),
        Request::ServersEnable(s) => set_server_state(doc, s, ServerState::Up),
        Request::ServersDisable(s) => set_server_state(doc, s, ServerState::Disabled),
        other => Err(err(
            code::INVALID_ARGUMENT,
            format!("{} is not a change", other.command()),
        )),
    }
}

/// `services.add`.
pub fn add_service(doc: &mut Value, spec: &ServiceSpec) -> Result<String, ErrorBody> {
    let services = services_mut(doc)?;
    let name = &spec.name;
    if find_named(services, name).is_some() {
        return Err(err(code::ALREADY_EXISTS, format!("service {name} exists")));
    }
    services.push(serde_json::to_value(spec).map_err(internal)?);
    Ok(format!("service {name} added"))
}

/// `services.remove`.
pub fn remove_service(doc: &mut Value, s: &ServiceName) -> Result<String, ErrorBody> {
    let services = services_mut(doc)?;
    let name = &s.name;
    let i = find_named(services, name).ok_or_else(|| unknown_service(name))?;
    services.remove(i);
    Ok(format!("service {name} removed"))
}

/// `services.update`: the given fields replace the service's.
pub fn update_service(doc: &mut Value, u: &ServiceUpdate) -> Result<String, ErrorBody> {
    let services = services_mut(doc)?;
    let name = &u.name;
    let i = find_named(services, name).ok_or_else(|| unknown_service(name))?;
    let s = services[i]
        .as_object_mut()
        .ok_or_else(|| err(code::INTERNAL, "service not an object"))?;
    let fields: Map<String, Value> = u.fields();
    for (k, v) in &fields {
        s.insert(k.clone(), v.clone());
    }
    // A burst without a rate is an error: drop the written-out one.
    if s.get("new_sessions_per_s").and_then(|v| v.as_u64()) == Some(0)
        && !fields.contains_key("burst")
    {
        s.remove("burst");
    }
    Ok(format!("service {name} updated"))
}

/// `servers.add`.
pub fn add_server(doc: &mut Value, a: &ServerAdd) -> Result<String, ErrorBody> {
    let (svc, name) = (&a.service, &a.server.name);
    let servers = servers_mut(doc, svc)?;
    if find_named(servers, name).is_some() {
        return Err(err(
            code::ALREADY_EXISTS,
            format!("service {svc} has a server {name}"),
        ));
    }
    servers.push(serde_json::to_value(&a.server).map_err(internal)?);
    Ok(format!("server {name} added to service {svc}"))
}

/// `servers.remove`: the server's sessions finish first.
pub fn remove_server(doc: &mut Value, r: &ServerRef) -> Result<String, ErrorBody> {
    let (servers, vi) = server_at(doc, r)?;
    servers.remove(vi);
    Ok(format!(
        "server {} removed from service {} (its sessions finish first)",
        r.server, r.service
    ))
}

/// `servers.update`: the given fields replace the server's.
pub fn update_server(doc: &mut Value, u: &ServerUpdate) -> Result<String, ErrorBody> {
    let r = ServerRef {
        service: u.service.clone(),
        server: u.server.clone(),
    };
    let (servers, vi) = server_at(doc, &r)?;
    let fields = u.fields();
    if fields.is_empty() {
        return Err(err(
            code::INVALID_ARGUMENT,
            "nothing to update: give weight, max_sessions, address or state",
        ));
    }
    let o = servers[vi]
        .as_object_mut()
        .ok_or_else(|| err(code::INTERNAL, "server not an object"))?;
    o.extend(fields);
    Ok(format!(
        "server {} of service {} updated",
        r.server, r.service
    ))
}

/// `servers.drain`, `servers.enable`, `servers.disable`: the operator's
/// state of the server.
pub fn set_server_state(
    doc: &mut Value,
    r: &ServerRef,
    state: ServerState,
) -> Result<String, ErrorBody> {
    let state = match state {
        ServerState::Up => "up",
        ServerState::Drain => "drain",
        ServerState::Disabled => "disabled",
    };
    let (servers, vi) = server_at(doc, r)?;
    servers[vi]["state"] = state.into();
    Ok(format!(
        "server {} of service {}: {state}",
        r.server, r.service
    ))
}
