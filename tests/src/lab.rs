//! The real-traffic lab (namespaces, slbd on net_tap, servers, clients): see scripts/lab.
