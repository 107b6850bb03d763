//! The native module of the `partly` npm package: the Rust core (`partly`) exposed to Node
//! through Node-API (napi-rs). It only translates (design.md §1): arguments in (`models.rs`),
//! results and errors out (`models.rs`, `error.rs`), futures to Promises with cancellation
//! (`runtime.rs`). The public JavaScript API (`index.js`, `errors.js`, `testing.js`) is a thin
//! layer over these functions; nothing here is meant to be called directly.
//!
//! Files mirror `bindings-python/src`: `client.rs`, `error.rs`, `models.rs`, `oauth.rs`,
//! `runtime.rs`, `testing.rs` (the in-process `partly-mock`).

#![deny(clippy::unwrap_used, clippy::expect_used)]
// Errors crossing to JavaScript are plain structs; their size on the error path does not matter.
#![allow(clippy::result_large_err)]
// Under `cfg(test)` (clippy --all-targets) napi-derive registers no exports, so every export
// looks unused; the crate has no Rust tests (`test = false`), it is tested from Node.
#![cfg_attr(test, allow(dead_code))]

mod cli;
mod client;
mod error;
mod logging;
mod models;
mod oauth;
mod runtime;
mod testing;

use napi_derive::napi;

/// The package version, reported in the user agent (`partly-node/<version>`).
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the native module (equal to the npm package's).
#[napi(catch_unwind)]
pub fn version() -> String {
    VERSION.to_string()
}
