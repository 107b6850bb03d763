//! # partly
//!
//! The official client for Partly's Integrations API (version `2026-01`): install an
//! integration through OAuth, create and fetch repair jobs, and queue vehicles for Partly to
//! prepare. The same core runs the Python and Node packages.
//!
//! - [`Client`] is cheap to clone and shared across tasks; build it with [`Client::builder`]
//!   or [`Client::from_env`] (`PARTLY_API_KEY`, `PARTLY_INTEGRATION_ID`, `PARTLY_BASE_URL`).
//! - Methods follow the wire names: [`Client::jobs`], [`Client::tier1`],
//!   [`Client::integrations`], and [`Client::call`] for methods without a typed wrapper.
//! - Every failure is one [`Error`] with a [`kind`](Error::kind) (the taxonomy shared with
//!   Python and Node), the HTTP status, the server's error `type`, the raw body, the number of
//!   attempts and the trace id. Inputs are validated before anything is sent.
//! - Calls are retried with backoff and jitter only where resending is safe
//!   ([`methods`]), `Retry-After` is honoured, and each attempt has one timeout covering
//!   connect, headers and body ([`config::defaults`]).
//!
//! ```
//! use partly::{Client, JobIdentity, JobData, JobInsert, VehicleIdentifier, ErrorKind};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), partly::Error> {
//! # let mock = partly_mock::MockServer::start(Default::default()).await.expect("mock");
//! # let (base_url, api_key, integration_id) = (mock.url(), partly_mock::DEMO_API_KEY, partly_mock::DEMO_INTEGRATION_ID);
//! let client = Client::builder()
//!     .base_url(base_url)            // defaults to https://api.partly.com
//!     .api_key(api_key)
//!     .integration_id(integration_id)
//!     .build()?;
//!
//! // Fetch a job by your own reference.
//! let job = client.jobs().get(JobIdentity::external("CCC-2026-04817")).await?;
//! println!("{} is {}", job.id, job.status.kind);
//!
//! // Upsert a job: merges into the existing one.
//! let mut data = JobData::new(job.site_id);
//! data.claim_number = Some("CLM-1".into());
//! let job = client.jobs().insert(JobInsert::new(JobIdentity::external("CCC-2026-04817"), data)).await?;
//! assert_eq!(job.claim_number.as_deref(), Some("CLM-1"));
//!
//! // Queue vehicles.
//! client.tier1().prepare(vec![VehicleIdentifier::chassis_number("JH4KA7561PC008269")]).await?;
//!
//! // Errors carry their class and fields.
//! let err = client.jobs().get(JobIdentity::external("no-such-job")).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::NotFound);
//! assert_eq!(err.status(), Some(404));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod bulk;
mod client;
pub mod config;
pub mod diagnostics;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod logging;
pub mod methods;
pub mod models;
pub mod naming;
pub mod network;
pub mod numbers;
pub mod oauth;
mod retry;
mod scrub;
mod secret;
pub mod shapes;
mod trace;

pub use bulk::{
    BatchCallback, BulkItem, InputError, OptionNaming, PrepareAllOptions, PrepareBatch, PrepareFailure,
    PrepareProgress, PrepareReport, ProgressCallback,
};
pub use client::{CallOptions, Client, Response, ResponseInfo};
pub use config::{ClientBuilder, Config, SdkIdentity};
pub use diagnostics::{diagnostics, Diagnostics};
pub use error::{Error, ErrorKind, Result};
pub use models::{
    IfExists, InstallRequest, InstallResponse, Job, JobData, JobIdentity, JobInsert, JobStatus, PrepareResponse,
    VehicleIdentifier,
};
pub use secret::Secret;

/// The SDK's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Re-exported so users of [`Client::call`] and the models need not add `serde_json`.
pub use serde_json;
/// Re-exported for ids in the models.
pub use uuid;

/// The README's code blocks, compiled and run as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
