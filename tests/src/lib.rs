//! Test harnesses shared by slb integration tests.
