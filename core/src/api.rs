//! The typed methods, grouped as on the wire, and the bulk preload.

use futures_util::stream::{self, StreamExt};

use crate::bulk::{BulkItem, PrepareAllOptions, PrepareReport};
use crate::client::{CallOptions, Client, Response};
use crate::error::Error;
use crate::methods;
use crate::models::{
    validate_prepare_batch, InstallRequest, InstallResponse, Job, JobIdentity, JobInsert, PrepareResponse,
    VehicleIdentifier,
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

    /// Queues any number of vehicles, pulled lazily from `identifiers` (a `Vec`, or any
    /// iterator, even an unbounded one): batches of `batch_size`, sent under an adaptive limit
    /// (see [`PrepareAllOptions`]), progress after each. A bad item (an empty chassis number,
    /// or a [`BulkItem::Invalid`]) is reported at its index and the run goes on; a request that
    /// still fails after its retries is reported with its error; a 429 is waited out and the
    /// batch queued again without spending its retries.
    ///
    /// Memory stays bounded by `max_concurrency × batch_size` identifiers plus one
    /// [`PrepareFailure`](crate::PrepareFailure) per failed identifier: accepted ones are
    /// counted, not kept.
    ///
    /// Returns `Err` only for bad options, missing credentials or an unusable checkpoint,
    /// before anything is sent; otherwise the report accounts for every identifier read.
    ///
    /// The iterator is pulled on the task that awaits this future: an iterator that blocks
    /// (reads a file) should be given to [`prepare_stream`](Self::prepare_stream) as a stream.
    pub async fn prepare_all<I>(&self, identifiers: I, options: PrepareAllOptions) -> Result<PrepareReport, Error>
    where
        I: IntoIterator,
        I::Item: Into<BulkItem>,
    {
        let iter = identifiers.into_iter();
        let total = match iter.size_hint() {
            (lo, Some(hi)) if lo == hi => Some(lo),
            _ => None,
        };
        crate::bulk::run::run(self.client, stream::iter(iter.map(Into::into)), total, options).await
    }

    /// [`prepare_all`](Self::prepare_all) over a [`Stream`](futures_util::Stream) of
    /// identifiers or of [`BulkItem`]s / `Result<VehicleIdentifier, InputError>` (so that
    /// items that could not be read are reported at their index, not fatal).
    pub async fn prepare_stream<S>(&self, identifiers: S, options: PrepareAllOptions) -> Result<PrepareReport, Error>
    where
        S: futures_util::Stream,
        S::Item: Into<BulkItem>,
    {
        crate::bulk::run::run(self.client, identifiers.map(Into::into), None, options).await
    }

    /// [`prepare_stream`](Self::prepare_stream) of a stream whose length is known in advance
    /// (reported as [`PrepareProgress::total`](crate::PrepareProgress::total)); the bindings
    /// use it for lists.
    pub async fn prepare_stream_sized<S>(
        &self,
        identifiers: S,
        total: Option<usize>,
        options: PrepareAllOptions,
    ) -> Result<PrepareReport, Error>
    where
        S: futures_util::Stream,
        S::Item: Into<BulkItem>,
    {
        crate::bulk::run::run(self.client, identifiers.map(Into::into), total, options).await
    }
}
