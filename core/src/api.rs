//! The typed methods, grouped as on the wire, and the bulk preload.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};

use crate::client::{CallOptions, Client, Response};
use crate::config::defaults;
use crate::error::Error;
use crate::methods;
use crate::models::{
    validate_identifiers, validate_prepare_batch, InstallRequest, InstallResponse, Job, JobIdentity, JobInsert,
    PrepareResponse, VehicleIdentifier,
};

/// `jobs.*` methods. Get it with [`Client::jobs`].
#[derive(Clone, Copy, Debug)]
pub struct Jobs<'a> {
    pub(crate) client: &'a Client,
}

impl Jobs<'_> {
    /// Fetches one repair job by Partly's id or by your own reference.
    ///
    /// Fails with [`NotFound`](crate::ErrorKind::NotFound) when there is no such job.
    pub async fn get(&self, identity: JobIdentity) -> Result<Job, Error> {
        self.get_with(identity, &CallOptions::default()).await
    }

    /// [`get`](Self::get) with per-call options.
    pub async fn get_with(&self, identity: JobIdentity, options: &CallOptions) -> Result<Job, Error> {
        self.get_with_info(identity, options).await.map(|r| r.value)
    }

    /// [`get_with`](Self::get_with), with the [`ResponseInfo`](crate::ResponseInfo) of the call.
    pub async fn get_with_info(&self, identity: JobIdentity, options: &CallOptions) -> Result<Response<Job>, Error> {
        let m = methods::JOBS_GET;
        identity.validate().map_err(|e| e.with_method(m.name))?;
        #[derive(serde::Serialize)]
        struct Body<'a> {
            identity: &'a JobIdentity,
        }
        self.client.execute_with_info(m.name, m, &Body { identity: &identity }, options, &[]).await
    }

    /// Creates a repair job, or updates/replaces it when one with the identity exists
    /// (see [`IfExists`](crate::IfExists)). Safe to retry: the same upsert twice gives the same job.
    pub async fn insert(&self, request: JobInsert) -> Result<Job, Error> {
        self.insert_with(request, &CallOptions::default()).await
    }

    /// [`insert`](Self::insert) with per-call options.
    pub async fn insert_with(&self, request: JobInsert, options: &CallOptions) -> Result<Job, Error> {
        self.insert_with_info(request, options).await.map(|r| r.value)
    }

    /// [`insert_with`](Self::insert_with), with the [`ResponseInfo`](crate::ResponseInfo) of the call.
    pub async fn insert_with_info(&self, request: JobInsert, options: &CallOptions) -> Result<Response<Job>, Error> {
        let m = methods::JOBS_INSERT;
        request.validate().map_err(|e| e.with_method(m.name))?;
        self.client.execute_with_info(m.name, m, &request.wire(), options, &[]).await
    }
}

/// `integrations.*` methods. Get it with [`Client::integrations`].
#[derive(Clone, Copy, Debug)]
pub struct Integrations<'a> {
    pub(crate) client: &'a Client,
}

impl Integrations<'_> {
    /// Finishes an OAuth install: trades the access code for the integration's API key and id.
    /// Needs no credentials. Never resent once a request may have reached the server, since the
    /// code is single use.
    pub async fn insert(&self, request: InstallRequest) -> Result<InstallResponse, Error> {
        self.insert_with(request, &CallOptions::default()).await
    }

    /// [`insert`](Self::insert) with per-call options.
    pub async fn insert_with(&self, request: InstallRequest, options: &CallOptions) -> Result<InstallResponse, Error> {
        self.insert_with_info(request, options).await.map(|r| r.value)
    }

    /// [`insert_with`](Self::insert_with), with the [`ResponseInfo`](crate::ResponseInfo) of the call.
    pub async fn insert_with_info(
        &self,
        request: InstallRequest,
        options: &CallOptions,
    ) -> Result<Response<InstallResponse>, Error> {
        let m = methods::INTEGRATIONS_INSERT;
        request.validate().map_err(|e| e.with_method(m.name))?;
        let secrets = [&request.access_code, &request.client_secret];
        self.client.execute_with_info(m.name, m, &request, options, &secrets).await
    }
}

/// `tier1.*` methods. Get it with [`Client::tier1`].
#[derive(Clone, Copy, Debug)]
pub struct Tier1<'a> {
    pub(crate) client: &'a Client,
}

/// Progress of a [`Tier1::prepare_all`], reported after every request settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrepareProgress {
    /// Identifiers in the whole run.
    pub total: usize,
    /// Identifiers whose request has settled (accepted + failed).
    pub done: usize,
    /// Identifiers accepted by the server.
    pub accepted: usize,
    /// Identifiers whose request failed.
    pub failed: usize,
    /// Requests settled.
    pub batches_done: usize,
    /// Requests in the whole run.
    pub batches_total: usize,
}

/// The callback [`Tier1::prepare_all`] calls with progress.
pub type ProgressCallback = Arc<dyn Fn(PrepareProgress) + Send + Sync>;

/// Options of [`Tier1::prepare_all`].
#[derive(Clone)]
pub struct PrepareAllOptions {
    /// Identifiers per request, 1 to 100 (default 100).
    pub batch_size: usize,
    /// Requests in flight at once, at least 1 (default 8).
    pub concurrency: usize,
    /// Timeout and retries of each request.
    pub call: CallOptions,
    /// Called after every request settles.
    pub on_progress: Option<ProgressCallback>,
}

impl Default for PrepareAllOptions {
    fn default() -> Self {
        PrepareAllOptions {
            batch_size: defaults::PREPARE_BATCH_MAX,
            concurrency: defaults::PREPARE_CONCURRENCY,
            call: CallOptions::default(),
            on_progress: None,
        }
    }
}

impl std::fmt::Debug for PrepareAllOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrepareAllOptions")
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("call", &self.call)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

/// One request of a [`Tier1::prepare_all`] run.
#[derive(Debug)]
pub struct PrepareBatch {
    /// Index of the batch's first identifier in the input.
    pub offset: usize,
    /// The identifiers the request carried, in input order.
    pub identifiers: Vec<VehicleIdentifier>,
    /// `None` when the server accepted them; the request's error otherwise.
    pub error: Option<Error>,
}

/// The outcome of a [`Tier1::prepare_all`]: every identifier is in exactly one batch, accepted
/// or failed with the error of its request.
#[derive(Debug, Default)]
pub struct PrepareReport {
    /// Identifiers in the run.
    pub total: usize,
    /// Identifiers accepted.
    pub accepted: usize,
    /// Identifiers whose request failed.
    pub failed: usize,
    /// Every request, in input order.
    pub batches: Vec<PrepareBatch>,
}

impl PrepareReport {
    /// Whether every identifier was accepted.
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }

    /// The requests that failed.
    pub fn failed_batches(&self) -> impl Iterator<Item = &PrepareBatch> {
        self.batches.iter().filter(|b| b.error.is_some())
    }

    /// The identifiers that were not accepted, with their input index and the error, so a
    /// caller can retry exactly those.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &VehicleIdentifier, &Error)> {
        self.failed_batches().flat_map(|b| {
            b.identifiers.iter().enumerate().filter_map(move |(i, id)| b.error.as_ref().map(|e| (b.offset + i, id, e)))
        })
    }
}

impl Tier1<'_> {
    /// Queues 1 to 100 vehicles for Partly to fetch and cache ahead of use.
    pub async fn prepare(&self, identifiers: Vec<VehicleIdentifier>) -> Result<PrepareResponse, Error> {
        self.prepare_with(identifiers, &CallOptions::default()).await
    }

    /// [`prepare`](Self::prepare) with per-call options.
    pub async fn prepare_with(
        &self,
        identifiers: Vec<VehicleIdentifier>,
        options: &CallOptions,
    ) -> Result<PrepareResponse, Error> {
        self.prepare_with_info(identifiers, options).await.map(|r| r.value)
    }

    /// [`prepare_with`](Self::prepare_with), with the [`ResponseInfo`](crate::ResponseInfo) of the call.
    pub async fn prepare_with_info(
        &self,
        identifiers: Vec<VehicleIdentifier>,
        options: &CallOptions,
    ) -> Result<Response<PrepareResponse>, Error> {
        let m = methods::TIER1_PREPARE;
        validate_prepare_batch(&identifiers).map_err(|e| e.with_method(m.name))?;
        #[derive(serde::Serialize)]
        struct Body<'a> {
            identifiers: &'a [VehicleIdentifier],
        }
        self.client.execute_with_info(m.name, m, &Body { identifiers: &identifiers }, options, &[]).await
    }

    async fn send_batch(
        &self,
        identifiers: &[VehicleIdentifier],
        options: &CallOptions,
    ) -> Result<PrepareResponse, Error> {
        let m = methods::TIER1_PREPARE;
        #[derive(serde::Serialize)]
        struct Body<'a> {
            identifiers: &'a [VehicleIdentifier],
        }
        self.client.execute_with_info(m.name, m, &Body { identifiers }, options, &[]).await.map(|r| r.value)
    }

    /// Queues any number of vehicles: requests of at most `batch_size` identifiers, at most
    /// `concurrency` in flight, progress reported after each. Each request has the usual
    /// retries; a request that still fails is recorded with its error and the run goes on.
    ///
    /// Returns `Err` only for bad input (an empty identifier, bad options), before anything is
    /// sent; otherwise the report accounts for every identifier.
    pub async fn prepare_all(
        &self,
        identifiers: Vec<VehicleIdentifier>,
        options: PrepareAllOptions,
    ) -> Result<PrepareReport, Error> {
        let m = methods::TIER1_PREPARE;
        let max = defaults::PREPARE_BATCH_MAX;
        if options.batch_size == 0 || options.batch_size > max {
            return Err(Error::validation(format!(
                "batch_size must be 1 to {max} (the API's limit per request); got {}",
                options.batch_size
            ))
            .with_method(m.name));
        }
        if options.concurrency == 0 {
            return Err(Error::validation("concurrency must be at least 1").with_method(m.name));
        }
        validate_identifiers(&identifiers).map_err(|e| e.with_method(m.name))?;
        if let Some(n) = options.call.max_retries {
            crate::config::validate_retries(n).map_err(|e| e.with_method(m.name))?;
        }
        if let Some(t) = options.call.timeout {
            crate::config::validate_timeout(t, "timeout").map_err(|e| e.with_method(m.name))?;
        }

        let total = identifiers.len();
        let mut chunks: Vec<(usize, Vec<VehicleIdentifier>)> = Vec::with_capacity(total.div_ceil(options.batch_size));
        let mut rest = identifiers.into_iter();
        let mut offset = 0;
        loop {
            let chunk: Vec<VehicleIdentifier> = rest.by_ref().take(options.batch_size).collect();
            if chunk.is_empty() {
                break;
            }
            let len = chunk.len();
            chunks.push((offset, chunk));
            offset += len;
        }
        let batches_total = chunks.len();
        let accepted = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let batches_done = AtomicUsize::new(0);
        let progress_lock = Mutex::new(());
        let call = &options.call;
        let on_progress = options.on_progress.as_ref();

        let mut batches: Vec<PrepareBatch> = stream::iter(chunks)
            .map(|(offset, ids)| {
                let accepted = &accepted;
                let failed = &failed;
                let batches_done = &batches_done;
                let progress_lock = &progress_lock;
                async move {
                    let result = self.send_batch(&ids, call).await;
                    let n = ids.len();
                    // One lock so that counts reported are consistent and never go backwards.
                    let guard = progress_lock.lock().unwrap_or_else(|p| p.into_inner());
                    if result.is_ok() {
                        accepted.fetch_add(n, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(n, Ordering::Relaxed);
                    }
                    let bd = batches_done.fetch_add(1, Ordering::Relaxed) + 1;
                    let progress = PrepareProgress {
                        total,
                        done: accepted.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed),
                        accepted: accepted.load(Ordering::Relaxed),
                        failed: failed.load(Ordering::Relaxed),
                        batches_done: bd,
                        batches_total,
                    };
                    if let Some(cb) = on_progress {
                        cb(progress);
                    }
                    drop(guard);
                    PrepareBatch { offset, identifiers: ids, error: result.err() }
                }
            })
            .buffer_unordered(options.concurrency)
            .collect()
            .await;
        batches.sort_by_key(|b| b.offset);
        Ok(PrepareReport {
            total,
            accepted: accepted.load(Ordering::Relaxed),
            failed: failed.load(Ordering::Relaxed),
            batches,
        })
    }
}
