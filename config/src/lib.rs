//! slbd configuration.
