//! `partly._native.Client`: the core's `Client` for Python, blocking and asyncio.
//!
//! Every API method comes twice: `name(...)` blocks (GIL released, Ctrl-C works) and
//! `name_async(...)` returns an awaitable. Both convert the arguments the same way, run the
//! same core call, and convert the answer the same way; the façade in `partly/_client.py`
//! wraps the results in model classes.
//!
//! After `os.fork()` the child's first call swaps in `Client::with_fresh_connections()`; the
//! parent's client (its pooled sockets are registered in the parent's runtime) is leaked in the
//! child, never dropped (see `runtime.rs`).

use std::future::Future;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use partly::{ClientBuilder, IfExists, JobData, JobIdentity, JobInsert, PrepareAllOptions, SdkIdentity};

use crate::error::{self, IntoPyResult};
use crate::models::{self, Outcome};
use crate::runtime::{self, ForkSafeCell};

struct State {
    /// The process the client's connections belong to.
    pid: u32,
    /// `None` once closed.
    client: Option<partly::Client>,
}

/// The native client. Use `partly.Client` / `partly.AsyncClient`.
#[pyclass(frozen, module = "partly._native")]
pub struct Client {
    state: ForkSafeCell<State>,
}

impl Drop for Client {
    fn drop(&mut self) {
        let me = runtime::pid();
        self.state.with(|s| {
            if s.pid != me {
                // Created in the parent of this forked process: do not touch its sockets here.
                std::mem::forget(s.client.take());
            }
        });
    }
}

/// `proxy` (a URL, `False` for none, `None` for the environment) and `ca_bundle` (a path).
fn network_options(
    py: Python<'_>,
    mut builder: ClientBuilder,
    proxy: Option<&Bound<'_, PyAny>>,
    ca_bundle: Option<&Bound<'_, PyAny>>,
) -> PyResult<ClientBuilder> {
    match proxy.filter(|p| !p.is_none()) {
        None => {}
        Some(p) if p.is_instance_of::<pyo3::types::PyBool>() => {
            if p.is_truthy()? {
                return Err(error::validation(
                    py,
                    "proxy=True is not a proxy; give its URL (\"http://proxy.example:3128\"), False for none, or None for the environment's",
                ));
            }
            builder = builder.no_proxy();
        }
        Some(p) => builder = builder.proxy(models::req_str(p, "proxy")?),
    }
    if let Some(path) = models::opt_path(ca_bundle, "ca_bundle")? {
        builder = builder.ca_bundle(path);
    }
    Ok(builder)
}

/// The identity reported in the `user-agent`.
fn sdk_identity(py: Python<'_>) -> PyResult<SdkIdentity> {
    Ok(SdkIdentity {
        product: "partly-python".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        runtime: python_runtime(py)?.to_owned(),
    })
}

static PYTHON_RUNTIME: PyOnceLock<String> = PyOnceLock::new();

/// `CPython 3.11.7`: the runtime reported in the `user-agent`.
fn python_runtime(py: Python<'_>) -> PyResult<&str> {
    PYTHON_RUNTIME
        .get_or_try_init(py, || {
            let platform = py.import("platform")?;
            let implementation: String = platform.call_method0("python_implementation")?.extract()?;
            let version: String = platform.call_method0("python_version")?.extract()?;
            Ok::<_, PyErr>(format!("{implementation} {version}"))
        })
        .map(String::as_str)
}

impl Client {
    /// The core client for this process (a fresh pool after a fork), or an error once closed.
    fn core(&self, py: Python<'_>) -> PyResult<partly::Client> {
        let me = runtime::pid();
        let got = self.state.with(|s| {
            let Some(client) = s.client.as_mut() else {
                return Err(None);
            };
            if s.pid != me {
                let fresh = client.with_fresh_connections().map_err(Some)?;
                std::mem::forget(std::mem::replace(client, fresh));
                s.pid = me;
            }
            Ok(client.clone())
        });
        match got {
            Ok(c) => Ok(c),
            Err(Some(e)) => Err(error::to_pyerr(py, &e)),
            Err(None) => Err(error::validation(py, "the client is closed; create a new one")),
        }
    }

    /// Runs a prepared call blocking or as an awaitable.
    fn run<'py, F>(py: Python<'py>, fut: F, blocking: bool) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        if blocking {
            runtime::block_on(py, fut)?.into_py(py)
        } else {
            runtime::spawn_async(py, fut)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn jobs_get_impl<'py>(
        &self,
        py: Python<'py>,
        id: Option<&Bound<'py, PyAny>>,
        external: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = models::opt_uuid_text(id, "id")?;
        let external = models::opt_str(external, "external")?;
        let options = models::call_options(timeout, max_retries)?;
        let identity = JobIdentity::from_parts(id.as_deref(), external.as_deref()).py(py)?;
        let client = self.core(py)?;
        Self::run(
            py,
            async move { Outcome::from_info(client.jobs().get_with_info(identity, &options).await, info) },
            blocking,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn jobs_insert_impl<'py>(
        &self,
        py: Python<'py>,
        id: Option<&Bound<'py, PyAny>>,
        external: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        if_exists: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = models::opt_uuid_text(id, "id")?;
        let external = models::opt_str(external, "external")?;
        let data = match data {
            Some(d) => models::to_json(d, "data")?,
            None => serde_json::Value::Null,
        };
        let if_exists = models::opt_str(if_exists, "if_exists")?;
        let options = models::call_options(timeout, max_retries)?;
        let identity = JobIdentity::from_parts(id.as_deref(), external.as_deref()).py(py)?;
        let data = JobData::from_json(data).py(py)?;
        let mut request = JobInsert::new(identity, data);
        if let Some(word) = if_exists {
            request = request.if_exists(IfExists::parse(&word).py(py)?);
        }
        let client = self.core(py)?;
        Self::run(
            py,
            async move { Outcome::from_info(client.jobs().insert_with_info(request, &options).await, info) },
            blocking,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn tier1_prepare_impl<'py>(
        &self,
        py: Python<'py>,
        identifiers: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let identifiers = models::identifiers(identifiers)?;
        let options = models::call_options(timeout, max_retries)?;
        let client = self.core(py)?;
        Self::run(
            py,
            async move { Outcome::from_info(client.tier1().prepare_with_info(identifiers, &options).await, info) },
            blocking,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn prepare_all_options(
        batch_size: Option<&Bound<'_, PyAny>>,
        max_concurrency: Option<&Bound<'_, PyAny>>,
        max_rate: Option<&Bound<'_, PyAny>>,
        deadline: Option<&Bound<'_, PyAny>>,
        checkpoint: Option<&Bound<'_, PyAny>>,
        adaptive: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PrepareAllOptions> {
        let mut options = PrepareAllOptions { call: models::call_options(timeout, max_retries)?, ..Default::default() };
        if let Some(n) = models::opt_count::<usize>(batch_size, "batch_size")? {
            options.batch_size = n;
        }
        if let Some(n) = models::opt_count::<usize>(max_concurrency, "max_concurrency")? {
            options.max_concurrency = n;
        }
        options.max_rate = models::opt_number(max_rate, "max_rate")?;
        options.deadline = models::opt_seconds(deadline, "deadline")?;
        options.checkpoint = models::opt_path(checkpoint, "checkpoint")?;
        if let Some(a) = models::opt_bool(adaptive, "adaptive")? {
            options.adaptive = a;
        }
        Ok(options)
    }

    #[allow(clippy::too_many_arguments)]
    fn integrations_insert_impl<'py>(
        &self,
        py: Python<'py>,
        access_code: &Bound<'py, PyAny>,
        client_id: &Bound<'py, PyAny>,
        client_secret: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = partly::InstallRequest::new(
            models::req_str(access_code, "access_code")?,
            models::req_str(client_id, "client_id")?,
            models::req_str(client_secret, "client_secret")?,
        );
        let options = models::call_options(timeout, max_retries)?;
        let client = self.core(py)?;
        Self::run(
            py,
            async move { Outcome::from_info(client.integrations().insert_with_info(request, &options).await, info) },
            blocking,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn call_impl<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        body: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        idempotent: Option<&Bound<'py, PyAny>>,
        auth: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let method = models::req_str(method, "method")?;
        let body = match body {
            Some(b) => models::to_json(b, "body")?,
            None => serde_json::Value::Null,
        };
        let mut options = models::call_options(timeout, max_retries)?;
        options.idempotent = models::opt_bool(idempotent, "idempotent")?;
        options.auth = models::opt_bool(auth, "auth")?;
        let client = self.core(py)?;
        Self::run(
            py,
            async move { Outcome::from_info(client.call_with_info(&method, body, &options).await, info) },
            blocking,
        )
    }
}

#[pymethods]
impl Client {
    /// Settings not given come from the environment (`PARTLY_API_KEY`, `PARTLY_INTEGRATION_ID`,
    /// `PARTLY_BASE_URL`) or the core's defaults.
    #[new]
    #[pyo3(signature = (*, api_key=None, integration_id=None, base_url=None, timeout=None, max_retries=None, allow_insecure_http=None, proxy=None, ca_bundle=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        api_key: Option<&Bound<'_, PyAny>>,
        integration_id: Option<&Bound<'_, PyAny>>,
        base_url: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<&Bound<'_, PyAny>>,
        allow_insecure_http: Option<&Bound<'_, PyAny>>,
        proxy: Option<&Bound<'_, PyAny>>,
        ca_bundle: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut builder = network_options(py, ClientBuilder::from_env(), proxy, ca_bundle)?;
        if let Some(key) = models::opt_str(api_key, "api_key")? {
            builder = builder.api_key(key);
        }
        if let Some(id) = models::opt_uuid_text(integration_id, "integration_id")? {
            builder = builder.integration_id(id);
        }
        if let Some(url) = models::opt_str(base_url, "base_url")? {
            builder = builder.base_url(url);
        }
        if let Some(t) = models::opt_seconds(timeout, "timeout")? {
            builder = builder.timeout(t);
        }
        if let Some(n) = models::opt_count::<u32>(max_retries, "max_retries")? {
            builder = builder.max_retries(n);
        }
        if let Some(allow) = models::opt_bool(allow_insecure_http, "allow_insecure_http")? {
            builder = builder.allow_insecure_http(allow);
        }
        builder = builder.sdk_identity(sdk_identity(py)?);
        let client = builder.build().py(py)?;
        Ok(Client { state: ForkSafeCell::new(State { pid: runtime::pid(), client: Some(client) }) })
    }

    /// The API's base URL.
    #[getter]
    fn base_url(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.core(py)?.config().base_url().as_str().trim_end_matches('/').to_owned())
    }

    /// The integration id sent as `partly-integration-id`, if any.
    #[getter]
    fn integration_id(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self.core(py)?.config().integration_id().map(|u| u.hyphenated().to_string()))
    }

    /// Whether an API key is set (the key itself is never handed out).
    #[getter]
    fn has_api_key(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.core(py)?.config().has_api_key())
    }

    /// Timeout of each attempt, in seconds.
    #[getter]
    fn timeout(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.core(py)?.config().timeout().as_secs_f64())
    }

    /// Retries after the first attempt.
    #[getter]
    fn max_retries(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.core(py)?.config().max_retries())
    }

    /// The `user-agent` sent.
    #[getter]
    fn user_agent(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.core(py)?.config().user_agent())
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.state.with(|s| s.client.is_none())
    }

    /// The effective proxy (credentials redacted), or `None` when calls go direct.
    #[getter]
    fn proxy(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self.core(py)?.config().network().proxy().display())
    }

    /// `partly.diagnostics()` with this client's settings (a dict), or with `blocking=False` an
    /// awaitable of it.
    #[pyo3(signature = (*, blocking=true))]
    fn diagnostics<'py>(&self, py: Python<'py>, blocking: bool) -> PyResult<Bound<'py, PyAny>> {
        let client = self.core(py)?;
        Self::run(py, async move { Outcome::from_result(Ok::<_, partly::Error>(client.diagnostics().await)) }, blocking)
    }

    /// Releases the connection pool. Calls made afterwards raise `ValidationError`.
    fn close(&self) {
        let me = runtime::pid();
        let taken = self.state.with(|s| (s.client.take(), s.pid == me));
        match taken {
            (Some(client), true) => drop(client),
            (Some(client), false) => std::mem::forget(client),
            (None, _) => {}
        }
    }

    /// `jobs_get`: the answer, or with `blocking=False` an awaitable of it (one native
    /// method for `Client` and `AsyncClient`).
    #[pyo3(signature = (*, id=None, external=None, timeout=None, max_retries=None, info=false, blocking=true))]
    #[allow(clippy::too_many_arguments)]
    fn jobs_get<'py>(
        &self,
        py: Python<'py>,
        id: Option<&Bound<'py, PyAny>>,
        external: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.jobs_get_impl(py, id, external, timeout, max_retries, info, blocking)
    }

    /// `jobs_insert`: the answer, or with `blocking=False` an awaitable of it (one native
    /// method for `Client` and `AsyncClient`).
    #[pyo3(signature = (*, id=None, external=None, data=None, if_exists=None, timeout=None, max_retries=None, info=false, blocking=true))]
    #[allow(clippy::too_many_arguments)]
    fn jobs_insert<'py>(
        &self,
        py: Python<'py>,
        id: Option<&Bound<'py, PyAny>>,
        external: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        if_exists: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.jobs_insert_impl(py, id, external, data, if_exists, timeout, max_retries, info, blocking)
    }

    /// `tier1_prepare`: the answer, or with `blocking=False` an awaitable of it (one native
    /// method for `Client` and `AsyncClient`).
    #[pyo3(signature = (identifiers, *, timeout=None, max_retries=None, info=false, blocking=true))]
    #[allow(clippy::too_many_arguments)]
    fn tier1_prepare<'py>(
        &self,
        py: Python<'py>,
        identifiers: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.tier1_prepare_impl(py, identifiers, timeout, max_retries, info, blocking)
    }

    /// `prepare_all`, blocking, for `Client` and (on a worker thread) `AsyncClient`: see
    /// bulk.rs. The one native entry of the bulk preload.
    #[pyo3(signature = (identifiers, *, batch_size=None, max_concurrency=None, max_rate=None, deadline=None, checkpoint=None, adaptive=None, on_progress=None, on_batch=None, timeout=None, max_retries=None))]
    #[allow(clippy::too_many_arguments)]
    fn tier1_prepare_all<'py>(
        &self,
        py: Python<'py>,
        identifiers: &Bound<'py, PyAny>,
        batch_size: Option<&Bound<'py, PyAny>>,
        max_concurrency: Option<&Bound<'py, PyAny>>,
        max_rate: Option<&Bound<'py, PyAny>>,
        deadline: Option<&Bound<'py, PyAny>>,
        checkpoint: Option<&Bound<'py, PyAny>>,
        adaptive: Option<&Bound<'py, PyAny>>,
        on_progress: Option<&Bound<'py, PyAny>>,
        on_batch: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = Self::prepare_all_options(
            batch_size,
            max_concurrency,
            max_rate,
            deadline,
            checkpoint,
            adaptive,
            timeout,
            max_retries,
        )?;
        let on_progress = callable(on_progress, "on_progress")?;
        let on_batch = callable(on_batch, "on_batch")?;
        let client = self.core(py)?;
        crate::bulk::prepare_all(py, client, identifiers, options, on_progress, on_batch)
    }

    /// `integrations_insert`: the answer, or with `blocking=False` an awaitable of it (one native
    /// method for `Client` and `AsyncClient`).
    #[pyo3(signature = (*, access_code, client_id, client_secret, timeout=None, max_retries=None, info=false, blocking=true))]
    #[allow(clippy::too_many_arguments)]
    fn integrations_insert<'py>(
        &self,
        py: Python<'py>,
        access_code: &Bound<'py, PyAny>,
        client_id: &Bound<'py, PyAny>,
        client_secret: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.integrations_insert_impl(py, access_code, client_id, client_secret, timeout, max_retries, info, blocking)
    }

    /// `call`: the answer, or with `blocking=False` an awaitable of it (one native
    /// method for `Client` and `AsyncClient`).
    #[pyo3(signature = (method, body=None, *, timeout=None, max_retries=None, idempotent=None, auth=None, info=false, blocking=true))]
    #[allow(clippy::too_many_arguments)]
    fn call<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        body: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_retries: Option<&Bound<'py, PyAny>>,
        idempotent: Option<&Bound<'py, PyAny>>,
        auth: Option<&Bound<'py, PyAny>>,
        info: bool,
        blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_impl(py, method, body, timeout, max_retries, idempotent, auth, info, blocking)
    }
}

/// A callable argument, or `None`.
fn callable<'py>(obj: Option<&Bound<'py, PyAny>>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) if o.is_callable() => Ok(Some(o.clone())),
        Some(o) => Err(error::validation(o.py(), format!("{name} must be callable, got {}", models::type_name(o)))),
    }
}
