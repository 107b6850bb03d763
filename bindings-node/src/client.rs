//! The client: `NativeClient` wraps one `partly::Client` and the registry of its calls in
//! flight. Every method is the core method of the same name, with arguments converted in
//! (`models.rs`) and the result or error converted out (`error.rs`); the JavaScript layer
//! (`index.js`) adds the namespaces, `AbortSignal` handling and the error classes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::Either;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use napi::{Env, Status};
use napi_derive::napi;
use tokio::sync::Notify;

use partly::{ClientBuilder, IfExists, InstallRequest, JobData, JobIdentity, JobInsert, SdkIdentity};

use crate::error::{ErrorInfo, Outcome};
use crate::models::{self, CallOptionsInput, PrepareAllInput, Record};
use crate::runtime::{self, spawn_call, CallRegistry, Channel, Completions};

/// Settings of `new Client(...)`. Unset ones come from the environment (`env`, the caller's
/// `process.env` view of the variables the core reads) or the core's defaults.
#[napi(object)]
#[derive(Default)]
pub struct ClientOptionsInput {
    /// API key (a secret).
    pub api_key: Option<String>,
    /// Integration id (a UUID).
    pub integration_id: Option<String>,
    /// Base URL of the API.
    pub base_url: Option<String>,
    /// Attempt timeout in milliseconds.
    pub timeout_ms: Option<f64>,
    /// Retries after the first attempt.
    pub max_retries: Option<f64>,
    /// Allow plain http to hosts other than loopback.
    pub allow_insecure_http: Option<bool>,
    /// A proxy URL for every call (overrides the environment).
    pub proxy: Option<String>,
    /// `proxy: false`: no proxy at all.
    pub no_proxy: Option<bool>,
    /// A PEM file of extra trusted roots.
    pub ca_bundle: Option<String>,
    /// The values of the variables named by `envVarNames()` in the caller's `process.env`.
    pub env: Option<std::collections::HashMap<String, String>>,
    /// The runtime reported in the user agent (`node 20.20.2`).
    pub runtime: Option<String>,
    /// `logLevel`: the level the `logger` gets records at (default: `PARTLY_LOG`, else `warn`
    /// with a logger, else `off`).
    pub log_level: Option<String>,
    /// Whether a `logger` was given.
    pub has_logger: Option<bool>,
}

/// The client's settings in force, without secrets (for `util.inspect`).
#[napi(object)]
pub struct ClientDescription {
    /// Base URL.
    pub base_url: String,
    /// Integration id, when set.
    pub integration_id: Option<String>,
    /// Whether an API key is set (the key itself is never handed out).
    pub has_api_key: bool,
    /// Attempt timeout in milliseconds.
    pub timeout_ms: f64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The user agent sent.
    pub user_agent: String,
    /// The proxy calls go through (credentials redacted), if any.
    pub proxy: Option<String>,
    /// Whether `close()` was called.
    pub closed: bool,
}

fn build(options: ClientOptionsInput) -> Result<(partly::Client, partly::logging::LogLevel), partly::Error> {
    let env = options.env.unwrap_or_default();
    let log_level = partly::logging::LogLevel::effective(
        options.log_level.as_deref(),
        env.get(partly::logging::ENV_LOG).map(String::as_str),
        options.has_logger == Some(true),
    )?;
    let mut b = ClientBuilder::from_env_with(|name| env.get(name).cloned());
    if let Some(key) = options.api_key {
        b = b.api_key(key);
    }
    if let Some(id) = options.integration_id {
        b = b.integration_id(id);
    }
    if let Some(url) = options.base_url {
        b = b.base_url(url);
    }
    if let Some(ms) = options.timeout_ms {
        b = b.timeout(partly::config::duration_from_millis(ms, "timeoutMs")?);
    }
    if let Some(n) = options.max_retries {
        b = b.max_retries(models::retries(n, "maxRetries")?);
    }
    if let Some(allow) = options.allow_insecure_http {
        b = b.allow_insecure_http(allow);
    }
    if let Some(url) = options.proxy {
        b = b.proxy(url);
    }
    if options.no_proxy == Some(true) {
        b = b.no_proxy();
    }
    if let Some(path) = options.ca_bundle {
        b = b.ca_bundle(path);
    }
    b = b.node_extra_ca_certs(env.get(partly::network::NODE_EXTRA_CA_CERTS).cloned());
    b = b.sdk_identity(SdkIdentity {
        product: "partly-node".into(),
        version: crate::VERSION.into(),
        runtime: options.runtime.unwrap_or_else(|| "node".into()),
    });
    Ok((b.build()?, log_level))
}

/// A client of the Partly API (the `Client` of `index.js` holds one).
#[napi]
pub struct NativeClient {
    client: partly::Client,
    calls: Arc<CallRegistry>,
    channel: Arc<Channel>,
}

/// Builds a client, or says what is wrong with the settings.
#[napi(catch_unwind)]
pub fn create_client(options: ClientOptionsInput, completions: &Completions) -> Either<NativeClient, ErrorInfo> {
    match runtime::guard(|| build(options)) {
        Ok(Ok((client, log_level))) => Either::A(NativeClient {
            client,
            calls: Arc::new(CallRegistry::with_log_level(log_level)),
            channel: completions.channel(),
        }),
        Ok(Err(e)) => Either::B(ErrorInfo::from(&e)),
        Err(panic) => Either::B(panic.error.unwrap_or_else(|| crate::error::internal("no error"))),
    }
}

/// The `onProgress` and `onBatch` callbacks, called on the JavaScript thread with a record
/// (`models::Record`); the return value is ignored and the JavaScript layer makes sure they never
/// throw. Weak: they do not keep the event loop alive by themselves (the pending call does).
type RecordFn = ThreadsafeFunction<Record, UnknownReturnValue, Record, Status, false, true>;

/// Counts progress calls queued to the JavaScript thread and not yet run, so that a
/// `prepareAll` settles only after every progress call was delivered.
#[derive(Default)]
struct Delivery {
    pending: AtomicUsize,
    idle: Notify,
}

impl Delivery {
    fn done(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    async fn wait_idle(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// Asks the JavaScript layer for the next chunk of `prepareAll`'s input. Weak, like the others.
type PullFn = ThreadsafeFunction<(), UnknownReturnValue, (), Status, false, true>;

/// Items the JavaScript layer sends per `push`.
const FEED_CHUNK: usize = 1000;

/// Where the JavaScript layer pushes `prepareAll`'s input, one chunk per `pull()`.
#[napi]
pub struct NativeFeeder {
    feeder: partly::bulk::Feeder,
}

#[napi]
impl NativeFeeder {
    /// The next items: each one's JSON text, or `null` with how it looks in `givens`.
    #[napi(catch_unwind)]
    pub fn push(&self, texts: Vec<Option<String>>, givens: Vec<Option<String>>) {
        if !texts.is_empty() {
            self.feeder.push(models::bulk_items(texts, givens));
        }
    }

    /// The end of the input.
    #[napi(catch_unwind)]
    pub fn end(&self) {
        self.feeder.end();
    }

    /// Items per chunk the core asks for.
    #[napi(getter)]
    pub fn chunk(&self) -> u32 {
        FEED_CHUNK as u32
    }
}

/// Queues `record` to the JavaScript callback `f`, counted in `delivery` until it has run.
fn deliver(f: &RecordFn, delivery: &Arc<Delivery>, record: Record) {
    delivery.pending.fetch_add(1, Ordering::AcqRel);
    let d = Arc::clone(delivery);
    let status = f.call_with_return_value(record, ThreadsafeFunctionCallMode::NonBlocking, move |_, _| {
        d.done();
        Ok(())
    });
    if status != Status::Ok {
        // Not queued (the environment is going away): nothing to wait for.
        delivery.done();
    }
}

#[napi]
impl NativeClient {
    /// The settings in force, without secrets.
    #[napi(catch_unwind)]
    pub fn describe(&self) -> ClientDescription {
        let c = self.client.config();
        ClientDescription {
            base_url: c.base_url().as_str().trim_end_matches('/').to_string(),
            integration_id: c.integration_id().map(|id| id.to_string()),
            has_api_key: c.has_api_key(),
            timeout_ms: c.timeout().as_secs_f64() * 1000.0,
            max_retries: c.max_retries(),
            user_agent: c.user_agent(),
            proxy: c.network().proxy().display(),
            closed: self.calls.is_closed(),
        }
    }

    /// `diagnostics()` with this client's settings.
    #[napi(catch_unwind)]
    pub fn diagnostics(&self, env: &Env, call_id: u32) -> napi::Result<()> {
        let client = self.client.clone();
        spawn_call(env, &self.channel, &self.calls, call_id, async move {
            Outcome::from_json_result(models::to_json_text(&client.diagnostics().await))
        })
    }

    /// `jobs.get` by exactly one of `id` and `external`.
    #[napi(catch_unwind)]
    pub fn jobs_get(
        &self,
        env: &Env,
        call_id: u32,
        id: Option<String>,
        external: Option<String>,
        options: Option<CallOptionsInput>,
    ) -> napi::Result<()> {
        let client = self.client.clone();
        spawn_call(env, &self.channel, &self.calls, call_id, async move {
            Outcome::from_json_result(
                async {
                    let identity = JobIdentity::from_parts(id.as_deref(), external.as_deref())?;
                    let info = models::wants_info(&options);
                    let options = models::call_options(options)?;
                    models::result_text(client.jobs().get_with_info(identity, &options).await?, info)
                }
                .await,
            )
        })
    }

    /// `jobs.insert`: `data` is JSON text; `if_exists` is `update` (default) or `replace`.
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn jobs_insert(
        &self,
        env: &Env,
        call_id: u32,
        id: Option<String>,
        external: Option<String>,
        data: Option<String>,
        if_exists: Option<String>,
        options: Option<CallOptionsInput>,
    ) -> napi::Result<()> {
        let client = self.client.clone();
        spawn_call(env, &self.channel, &self.calls, call_id, async move {
            Outcome::from_json_result(
                async {
                    let identity = JobIdentity::from_parts(id.as_deref(), external.as_deref())?;
                    let data = JobData::from_json(models::json(data, "data")?)?;
                    let mut request = JobInsert::new(identity, data);
                    if let Some(word) = if_exists {
                        request = request.if_exists(IfExists::parse(&word)?);
                    }
                    let info = models::wants_info(&options);
                    let options = models::call_options(options)?;
                    models::result_text(client.jobs().insert_with_info(request, &options).await?, info)
                }
                .await,
            )
        })
    }

    /// `tier1.prepare` of 1 to 100 identifiers (JSON text of an array).
    #[napi(catch_unwind)]
    pub fn tier1_prepare(
        &self,
        env: &Env,
        call_id: u32,
        identifiers: Option<String>,
        options: Option<CallOptionsInput>,
    ) -> napi::Result<()> {
        let client = self.client.clone();
        spawn_call(env, &self.channel, &self.calls, call_id, async move {
            Outcome::from_json_result(
                async {
                    let ids = models::identifiers(models::json(identifiers, "identifiers")?)?;
                    let info = models::wants_info(&options);
                    let options = models::call_options(options)?;
                    models::result_text(client.tier1().prepare_with_info(ids, &options).await?, info)
                }
                .await,
            )
        })
    }

    /// `tier1.prepareAll`: the input is pulled from JavaScript as the core asks for it
    /// (`pull()` is called on the JavaScript thread; the JavaScript layer answers each call with
    /// one `push` or `end` on the returned feeder), so an iterable of any length is never
    /// materialised.
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn tier1_prepare_all(
        &self,
        env: &Env,
        call_id: u32,
        pull: PullFn,
        total: Option<f64>,
        input: PrepareAllInput,
        on_progress: Option<RecordFn>,
        on_batch: Option<RecordFn>,
        options: Option<CallOptionsInput>,
    ) -> napi::Result<NativeFeeder> {
        let client = self.client.clone();
        let (feeder, stream) = partly::bulk::demand_feed(FEED_CHUNK / 2, move || {
            let _ = pull.call((), ThreadsafeFunctionCallMode::NonBlocking);
        });
        let total = total.map(|t| t as usize);
        spawn_call(env, &self.channel, &self.calls, call_id, async move {
            let delivery = Arc::new(Delivery::default());
            let run = async {
                let mut all = models::prepare_all_options(input, options)?;
                all.on_progress = on_progress.map(|f| {
                    let d = Arc::clone(&delivery);
                    Arc::new(move |p| deliver(&f, &d, Record::Progress(p))) as partly::ProgressCallback
                });
                all.on_batch = on_batch.map(|f| {
                    let d = Arc::clone(&delivery);
                    Arc::new(move |b: &partly::PrepareBatch| deliver(&f, &d, Record::Batch(b.clone())))
                        as partly::BatchCallback
                });
                client.tier1().prepare_stream_sized(stream, total, all).await
            };
            let result = run.await;
            delivery.wait_idle().await;
            match result {
                Ok(report) => Outcome { report: Some(Record::Report(report)), ..Default::default() },
                Err(e) => Outcome::error(ErrorInfo::from(&e)),
            }
        })?;
        Ok(NativeFeeder { feeder })
    }

    /// `integrations.insert`: trade an access code for an API key. Absent strings count as empty.
    #[napi(catch_unwind)]
    pub fn integrations_insert(
        &self,
        env: &Env,
        call_id: u32,
        access_code: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
        options: Option<CallOptionsInput>,
    ) -> napi::Result<()> {
        let client = self.client.clone();
        spawn_call(env, &self.channel, &self.calls, call_id, async move {
            Outcome::from_json_result(
                async {
                    let request = InstallRequest::new(
                        access_code.unwrap_or_default(),
                        client_id.unwrap_or_default(),
                        client_secret.unwrap_or_default(),
                    );
                    let info = models::wants_info(&options);
                    let options = models::call_options(options)?;
                    models::result_text(client.integrations().insert_with_info(request, &options).await?, info)
                }
                .await,
            )
        })
    }

    /// Any method by its wire name; `body` is JSON text (absent: `{}`).
    #[napi(catch_unwind)]
    pub fn call(
        &self,
        env: &Env,
        call_id: u32,
        method: String,
        body: Option<String>,
        options: Option<CallOptionsInput>,
    ) -> napi::Result<()> {
        let client = self.client.clone();
        spawn_call(env, &self.channel, &self.calls, call_id, async move {
            Outcome::from_json_result(
                async {
                    let body = models::json(body, "body")?;
                    let info = models::wants_info(&options);
                    let options = models::call_options(options)?;
                    let answer = client.call_with_info(&method, body, &options).await?;
                    if info {
                        models::result_text(answer, true)
                    } else {
                        Ok(answer.value.to_string())
                    }
                }
                .await,
            )
        })
    }

    /// Stops call `call_id` (its Promise settles with an `ABORT_ERR`); `false` when it had
    /// already finished.
    #[napi(catch_unwind)]
    pub fn cancel(&self, call_id: u32) -> bool {
        self.calls.cancel(call_id)
    }

    /// Refuses new calls; with `abort`, also stops every call in flight (otherwise they
    /// finish). Returns how many were stopped.
    #[napi(catch_unwind)]
    pub fn close(&self, abort: Option<bool>) -> u32 {
        u32::try_from(self.calls.close(abort == Some(true))).unwrap_or(u32::MAX)
    }

    /// Calls in flight (for tests and diagnostics).
    #[napi(catch_unwind)]
    pub fn in_flight(&self) -> u32 {
        u32::try_from(self.calls.in_flight()).unwrap_or(u32::MAX)
    }
}

/// The names of the environment variables the core reads.
#[napi(catch_unwind)]
pub fn env_var_names() -> Vec<String> {
    partly::config::ENV_VARS
        .iter()
        .chain([&partly::network::NODE_EXTRA_CA_CERTS, &partly::logging::ENV_LOG])
        .map(|s| s.to_string())
        .collect()
}

/// The core's shapes (`partly::shapes::ALL`), for the drift test of `index.d.ts` and
/// `errors.js`: `[{ name, fields: [{ name, node, ty, doc }] }]`, `node` the field's Node name.
#[napi(catch_unwind)]
pub fn shapes() -> serde_json::Value {
    partly::shapes::all_as_json()
}
