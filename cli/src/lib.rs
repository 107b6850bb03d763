//! # partly-cli
//!
//! The `partly` command line, written once on the SDK's core ([`partly`]) and shipped with every
//! install: this crate's `partly` binary (`cargo install partly-cli`), the `partly` console script
//! of the Python wheel and the `partly` bin of the npm package all call [`run`].
//!
//! ```text
//! partly preload FILE|-          queue the vehicles of a CSV or a list (progress, checkpoint, failures)
//! partly jobs get --external REF | --id UUID
//! partly jobs insert --external REF | --id UUID --site-id UUID [--claim-number ..] [--data JSON|-]
//! partly call METHOD [JSON|-]    any method, JSON out
//! partly oauth url --client-id ID --redirect-url URL
//! partly mock [--port N] [--rate-limit RPS] [--latency-ms N]
//! partly doctor [--json]
//! ```
//!
//! Exit statuses: 0 success; 1 the call failed (the server or the network), or some
//! identifiers were not accepted; 2 bad usage or input (nothing was sent for it); 130
//! interrupted (Ctrl-C).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use partly::serde_json::{self, json, Value};
use partly::{CallOptions, ClientBuilder, Error, ErrorKind, IfExists, JobData, JobIdentity, JobInsert};

mod preload;

/// Success.
pub const EXIT_OK: i32 = 0;
/// The call failed (the server answered an error, or the network), or not every identifier of a
/// preload was accepted.
pub const EXIT_FAILED: i32 = 1;
/// Bad usage or bad input: nothing was sent for it.
pub const EXIT_USAGE: i32 = 2;
/// Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

const AFTER_HELP: &str = "\
Configuration: flags win over the environment the SDK's libraries read too:
  PARTLY_API_KEY, PARTLY_INTEGRATION_ID, PARTLY_BASE_URL, and HTTPS_PROXY / NO_PROXY.
  Secrets are never printed: not the API key, a client secret, an access code nor a proxy password.

Try it offline: `partly mock` starts the local API and prints the demo credentials to export.

Exit status: 0 success; 1 the call failed, or some identifiers were not accepted;
2 bad usage or input (nothing was sent for it); 130 interrupted.";

/// The Partly SDK's command line: preload vehicle lists, fetch and upsert repair jobs, call any
/// method, build OAuth install links, run the local mock API and diagnose the network.
#[derive(Parser, Debug)]
#[command(name = "partly", bin_name = "partly", version, about, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    conn: Connection,
    /// Print results (and errors, on stderr) as one line of JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// How to reach the API (each flag overrides its environment variable).
#[derive(Args, Debug)]
struct Connection {
    /// The API's base URL [env: PARTLY_BASE_URL; default https://api.partly.com].
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    /// The integration's API key [env: PARTLY_API_KEY]. Prefer the variable: a flag shows in `ps`.
    #[arg(long, global = true, value_name = "KEY")]
    api_key: Option<String>,
    /// The integration id sent with the key [env: PARTLY_INTEGRATION_ID].
    #[arg(long, global = true, value_name = "UUID")]
    integration_id: Option<String>,
    /// Timeout of each attempt, in seconds [default 30].
    #[arg(long, global = true, value_name = "SECS")]
    timeout: Option<f64>,
    /// Retries of a failed call where resending is safe [default 2].
    #[arg(long, global = true, value_name = "N")]
    max_retries: Option<u32>,
    /// The proxy to use (instead of HTTPS_PROXY and friends).
    #[arg(long, global = true, value_name = "URL")]
    proxy: Option<String>,
    /// Use no proxy, whatever the environment says.
    #[arg(long, global = true, conflicts_with = "proxy")]
    no_proxy: bool,
    /// Extra trusted CA certificates (PEM), added to the system's.
    #[arg(long, global = true, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Queue every vehicle of a file (or stdin) for Partly to prepare.
    ///
    /// Input: one chassis number (VIN) per line, or a CSV with a header: `--column NAME` names
    /// the column of chassis numbers; `--plate-column` (and `--region-column`) read plates.
    /// A file ending in .csv, or any column flag, means CSV; its columns `chassis_number` (or
    /// `vin`), `plate` and `region` are found by themselves. Blank lines are skipped.
    ///
    /// The input is streamed (memory does not grow with it) through the SDK's bulk preload:
    /// batches of up to 100, several requests in flight. On a terminal a progress bar shows the
    /// rate, the ETA and the failures; otherwise a plain line is printed every
    /// --progress-interval seconds. `--checkpoint FILE` records what was accepted: run the same
    /// command again after a crash or Ctrl-C and only the rest is sent. Identifiers that were
    /// not accepted are written to a CSV (`--failures`) with their errors; that file can be
    /// given back to `partly preload`. Exit status 0 only when every identifier was accepted.
    Preload(preload::PreloadArgs),
    /// Repair jobs: `get` and `insert`.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Call any method by its wire name with a JSON body (an argument, or `-` for stdin); prints
    /// the JSON answer. Same auth, retries, timeouts and errors as the typed commands.
    Call(CallArgs),
    /// The OAuth install: `url` builds the authorize link.
    Oauth {
        #[command(subcommand)]
        command: OauthCommand,
    },
    /// Run the local mock of the API (partly-mock) until Ctrl-C, printing its URL and the demo
    /// credentials to export.
    Mock(MockArgs),
    /// Diagnose the network path to the API: proxy, trusted roots, DNS, TCP, TLS, first byte,
    /// clock offset. Sends no credentials. Exit status 1 when the API cannot be reached.
    Doctor,
}

#[derive(Subcommand, Debug)]
enum JobsCommand {
    /// Fetch one job, printed as JSON.
    Get(IdentityArgs),
    /// Create a job, or update (or replace) the one with this identity; prints the job as JSON.
    Insert(InsertArgs),
}

/// Which job.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct IdentityArgs {
    /// Your own reference for the job (e.g. CCC-2026-04817).
    #[arg(long, value_name = "REF")]
    external: Option<String>,
    /// Partly's id of the job.
    #[arg(long, value_name = "UUID")]
    id: Option<String>,
}

#[derive(Args, Debug)]
struct InsertArgs {
    #[command(flatten)]
    identity: IdentityArgs,
    /// The repairer site of the job.
    #[arg(long, value_name = "UUID")]
    site_id: Option<String>,
    /// The claim number.
    #[arg(long, value_name = "TEXT")]
    claim_number: Option<String>,
    /// The job number.
    #[arg(long, value_name = "TEXT")]
    job_number: Option<String>,
    /// The work provider (insurer).
    #[arg(long, value_name = "UUID")]
    work_provider_id: Option<String>,
    /// The vehicle, as a JSON object.
    #[arg(long, value_name = "JSON")]
    vehicle: Option<String>,
    /// The whole `data` object (ExternalInsert) as JSON, or `-` for stdin; the flags above win.
    #[arg(long, value_name = "JSON|-")]
    data: Option<String>,
    /// What to do when the job exists.
    #[arg(long, value_name = "HOW", value_parser = ["update", "replace"], default_value = "update")]
    if_exists: String,
}

#[derive(Args, Debug)]
struct CallArgs {
    /// The dotted wire name, e.g. businesses.list.
    method: String,
    /// The JSON body (an object), or `-` to read it from stdin [default {}].
    body: Option<String>,
    /// The method is safe to resend (by default an unknown method is resent only when the
    /// connection was never made).
    #[arg(long)]
    idempotent: bool,
    /// Print secrets the answer carries (the api_key of integrations.insert), which are
    /// otherwise replaced by "***".
    #[arg(long)]
    show_secrets: bool,
}

#[derive(Subcommand, Debug)]
enum OauthCommand {
    /// Build the URL that starts an install, with a fresh random state to keep and check.
    Url(OauthUrlArgs),
}

#[derive(Args, Debug)]
struct OauthUrlArgs {
    /// The client id Partly issued for the integration.
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// The redirect URL, exactly as registered with Partly.
    #[arg(long, value_name = "URL")]
    redirect_url: String,
    /// A scope to ask for (repeat for more) [default repairer].
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Another authorize page (staging, or a partly-mock's URL).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
}

#[derive(Args, Debug)]
struct MockArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to bind (0: any free port; the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Delay added to every API answer, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    latency_ms: u64,
    /// Answer at most this many API calls per second (a token bucket; beyond it 429 with
    /// Retry-After: 1), to rehearse a throttled preload.
    #[arg(long, value_name = "RPS")]
    rate_limit: Option<f64>,
    /// With --rate-limit: the bucket's burst [default: a tenth of a second's worth, at least 1].
    #[arg(long, value_name = "N", requires = "rate_limit")]
    rate_burst: Option<u32>,
    /// A redirect URL registered for the demo OAuth client (repeat for more).
    #[arg(long = "redirect-url", value_name = "URL")]
    redirect_urls: Vec<String>,
}

/// Runs the command line with `args` (the program name first, as `std::env::args_os` gives
/// them) and returns the exit status. Writes to this process's stdout and stderr and reads its
/// stdin; Ctrl-C (SIGINT) stops the command cleanly (status 130; `partly mock`: 0).
pub fn run(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors go to stderr.
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("partly: cannot start the runtime: {e}");
            return EXIT_FAILED;
        }
    };
    let json = cli.json;
    let code = runtime.block_on(async move {
        match cli.command {
            // The mock stops on Ctrl-C by design (status 0).
            Command::Mock(args) => mock(args, json).await,
            command => {
                tokio::select! {
                    code = dispatch(command, cli.conn, json) => code,
                    () = interrupted() => {
                        eprintln!("partly: interrupted");
                        EXIT_INTERRUPTED
                    }
                }
            }
        }
    });
    // A blocked read of stdin must not hold the process up.
    runtime.shutdown_background();
    code
}

/// Ctrl-C (SIGINT, and SIGTERM on Unix). The handlers are installed when this is called (not
/// when the future is first polled), so a signal sent right after a line printed afterwards is
/// caught.
fn interrupted() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

async fn dispatch(command: Command, conn: Connection, json: bool) -> i32 {
    let result = match command {
        Command::Preload(args) => preload::run(args, &conn, json).await,
        Command::Jobs { command: JobsCommand::Get(args) } => jobs_get(args, &conn, json).await,
        Command::Jobs { command: JobsCommand::Insert(args) } => jobs_insert(args, &conn, json).await,
        Command::Call(args) => call(args, &conn, json).await,
        Command::Oauth { command: OauthCommand::Url(args) } => oauth_url(args, json),
        Command::Doctor => doctor(&conn, json).await,
        Command::Mock(_) => Ok(EXIT_OK),
    };
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(json),
    }
}

/// Why a command failed: an SDK error (already scrubbed of secrets by the core) or bad input
/// found by the command line itself.
#[derive(Debug)]
pub(crate) enum Failure {
    Sdk(Error),
    Input(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Sdk(e)
    }
}

impl Failure {
    /// One line on stderr (a JSON object with `--json`); returns the exit status.
    fn report(&self, json: bool) -> i32 {
        match self {
            Failure::Sdk(e) => {
                if json {
                    err_line(&error_json(e).to_string());
                } else {
                    err_line(&format!("partly: {e}"));
                }
                if e.kind() == ErrorKind::Validation {
                    EXIT_USAGE
                } else {
                    EXIT_FAILED
                }
            }
            Failure::Input(message) => {
                if json {
                    err_line(&json!({"error": {"class": "ValidationError", "message": message}}).to_string());
                } else {
                    err_line(&format!("partly: {message}"));
                }
                EXIT_USAGE
            }
        }
    }
}

/// An SDK error as JSON: the same fields as the Python and Node error classes.
pub(crate) fn error_json(e: &Error) -> Value {
    json!({"error": {
        "class": e.kind().class_name(),
        "code": e.kind().code(),
        "message": e.to_string(),
        "method": e.method(),
        "status": e.status(),
        "type": e.code(),
        "attempts": e.attempts(),
        "trace_id": e.trace_id(),
        "request_id": e.request_id(),
    }})
}

/// Writes a line to stdout; a closed pipe (`partly ... | head`) is not an error.
pub(crate) fn out_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// Writes a line to stderr.
pub(crate) fn err_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}").and_then(|()| err.flush());
}

/// A JSON result: pretty for people, one line with `--json`.
fn emit(value: &Value, json: bool) {
    let text = if json { serde_json::to_string(value) } else { serde_json::to_string_pretty(value) };
    out_line(&text.unwrap_or_default());
}

/// The client builder: the environment (the same `PARTLY_*` variables as the libraries), then
/// the flags.
pub(crate) fn builder(conn: &Connection) -> Result<ClientBuilder, Failure> {
    let mut b = ClientBuilder::from_env().sdk_identity(partly::SdkIdentity {
        product: "partly-cli".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        runtime: "rust".into(),
    });
    if let Some(url) = &conn.base_url {
        b = b.base_url(url.clone());
    }
    if let Some(key) = &conn.api_key {
        b = b.api_key(key.clone());
    }
    if let Some(id) = &conn.integration_id {
        b = b.integration_id(id.clone());
    }
    if let Some(secs) = conn.timeout {
        b = b.timeout(partly::config::duration_from_secs(secs, "--timeout")?);
    }
    if let Some(n) = conn.max_retries {
        b = b.max_retries(n);
    }
    if let Some(proxy) = &conn.proxy {
        b = b.proxy(proxy.clone());
    }
    if conn.no_proxy {
        b = b.no_proxy();
    }
    if let Some(path) = &conn.ca_bundle {
        b = b.ca_bundle(path.clone());
    }
    Ok(b)
}

fn client(conn: &Connection) -> Result<partly::Client, Failure> {
    Ok(builder(conn)?.build()?)
}

fn identity(args: &IdentityArgs) -> Result<JobIdentity, Failure> {
    Ok(JobIdentity::from_parts(args.id.as_deref(), args.external.as_deref())?)
}

/// Reads a JSON argument: the text itself, or stdin for `-`.
fn json_arg(text: &str, what: &str) -> Result<Value, Failure> {
    let text = if text == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::Input(format!("{what}: cannot read stdin: {e}")))?;
        buf
    } else {
        text.to_string()
    };
    serde_json::from_str(&text).map_err(|e| Failure::Input(format!("{what} is not valid JSON: {e}")))
}

async fn jobs_get(args: IdentityArgs, conn: &Connection, json: bool) -> Result<i32, Failure> {
    let identity = identity(&args)?;
    let client = client(conn)?;
    let job = client.jobs().get(identity).await?;
    emit(&serde_json::to_value(&job).unwrap_or_default(), json);
    Ok(EXIT_OK)
}

async fn jobs_insert(args: InsertArgs, conn: &Connection, json: bool) -> Result<i32, Failure> {
    let identity = identity(&args.identity)?;
    let mut data = match &args.data {
        Some(text) => match json_arg(text, "--data")? {
            Value::Object(map) => map,
            other => {
                return Err(Failure::Input(format!(
                    "--data must be a JSON object (the job's fields, e.g. {{\"repairer_site_id\": \"...\"}}), got {}",
                    partly::models::json_type_name(&other)
                )))
            }
        },
        None => Default::default(),
    };
    let fields = [
        ("repairer_site_id", &args.site_id),
        ("claim_number", &args.claim_number),
        ("job_number", &args.job_number),
        ("work_provider_id", &args.work_provider_id),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            data.insert(name.into(), Value::String(v.clone()));
        }
    }
    if let Some(text) = &args.vehicle {
        data.insert("vehicle".into(), json_arg(text, "--vehicle")?);
    }
    if !data.contains_key("repairer_site_id") {
        return Err(Failure::Input(
            "jobs insert needs the job's repairer site: give --site-id UUID (or repairer_site_id in --data)".into(),
        ));
    }
    let data = JobData::from_json(Value::Object(data))?;
    let request = JobInsert::new(identity, data).if_exists(IfExists::parse(&args.if_exists)?);
    let client = client(conn)?;
    let job = client.jobs().insert(request).await?;
    emit(&serde_json::to_value(&job).unwrap_or_default(), json);
    Ok(EXIT_OK)
}

async fn call(args: CallArgs, conn: &Connection, json: bool) -> Result<i32, Failure> {
    let body = match &args.body {
        Some(text) => json_arg(text, "the body")?,
        None => Value::Object(Default::default()),
    };
    let client = client(conn)?;
    let mut options = CallOptions::default();
    if args.idempotent {
        options.idempotent = Some(true);
    }
    let mut answer = client.call_with(&args.method, body, &options).await?;
    // The method table says which answer fields are secrets (the api_key integrations.insert issues).
    if !args.show_secrets {
        if let (Some(spec), Value::Object(map)) = (partly::methods::lookup(&args.method), &mut answer) {
            for field in spec.answer_secrets {
                if let Some(v) = map.get_mut(*field) {
                    *v = Value::String("***".into());
                }
            }
        }
    }
    emit(&answer, json);
    Ok(EXIT_OK)
}

fn oauth_url(args: OauthUrlArgs, json: bool) -> Result<i32, Failure> {
    let scopes = if args.scopes.is_empty() { vec!["repairer".to_string()] } else { args.scopes };
    let auth = match &args.endpoint {
        Some(endpoint) => partly::oauth::authorize_url_at(endpoint, &args.client_id, &args.redirect_url, &scopes)?,
        None => partly::oauth::authorize_url(&args.client_id, &args.redirect_url, &scopes)?,
    };
    if json {
        emit(&json!({"url": auth.url, "state": auth.state}), true);
    } else {
        out_line(&format!("url:   {}", auth.url));
        out_line(&format!("state: {}", auth.state));
        err_line("keep the state (e.g. in the user's session) and check the one Partly sends back to the redirect URL");
    }
    Ok(EXIT_OK)
}

async fn doctor(conn: &Connection, json: bool) -> Result<i32, Failure> {
    let report = partly::diagnostics(builder(conn)?).await?;
    let value = serde_json::to_value(&report).unwrap_or_default();
    if json {
        emit(&value, true);
    } else {
        match &report.error {
            None => out_line(&format!(
                "ok: reached {} ({}, HTTP {}) in {:.1} ms",
                report.base_url,
                report.http_version.as_deref().unwrap_or("?"),
                report.status.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                report.timings.total_ms
            )),
            Some(e) => out_line(&format!("failed at {}: {}", e.stage, e.message)),
        }
        if let Value::Object(map) = &value {
            for (key, v) in map {
                if key != "error" {
                    human(key, v, 0);
                }
            }
        }
    }
    Ok(if report.error.is_none() { EXIT_OK } else { EXIT_FAILED })
}

/// `key: value` lines, nested values indented.
fn human(key: &str, value: &Value, depth: usize) {
    let pad = "  ".repeat(depth);
    match value {
        Value::Object(map) => {
            out_line(&format!("{pad}{key}:"));
            for (k, v) in map {
                human(k, v, depth + 1);
            }
        }
        Value::Array(items) if items.iter().any(|v| v.is_object()) => {
            out_line(&format!("{pad}{key}:"));
            for (i, v) in items.iter().enumerate() {
                human(&format!("- {i}"), v, depth + 1);
            }
        }
        Value::Array(items) => {
            let list: Vec<String> = items.iter().map(scalar).collect();
            out_line(&format!("{pad}{key}: {}", if list.is_empty() { "none".into() } else { list.join(", ") }));
        }
        other => out_line(&format!("{pad}{key}: {}", scalar(other))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn mock(args: MockArgs, json: bool) -> i32 {
    let stop = interrupted();
    let config = partly_mock::MockConfig {
        host: Some(args.host),
        port: args.port,
        latency: Duration::from_millis(args.latency_ms),
        redirect_urls: args.redirect_urls,
        rate_limit: args.rate_limit,
        rate_burst: args.rate_burst,
        ..Default::default()
    };
    let server = match partly_mock::MockServer::start(config).await {
        Ok(server) => server,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            err_line(&format!("partly mock: {e}"));
            return EXIT_USAGE;
        }
        Err(e) => {
            err_line(&format!("partly mock: cannot listen on {}:{}: {e}", args.host, args.port));
            return EXIT_FAILED;
        }
    };
    let url = server.url();
    if json {
        emit(
            &json!({
                "url": url,
                "api_key": partly_mock::DEMO_API_KEY,
                "integration_id": partly_mock::DEMO_INTEGRATION_ID,
                "client_id": partly_mock::DEMO_CLIENT_ID,
                "client_secret": partly_mock::DEMO_CLIENT_SECRET,
                "site_id": partly_mock::DEMO_SITE_ID,
                "job_id": partly_mock::DEMO_JOB_ID,
                "job_external_id": partly_mock::DEMO_JOB_EXTERNAL_ID,
            }),
            true,
        );
    } else {
        out_line(&format!("listening on {url}"));
        out_line("# the demo credentials (the mock accepts only these); in another shell:");
        out_line(&format!("export PARTLY_BASE_URL={url}"));
        out_line(&format!("export PARTLY_API_KEY={}", partly_mock::DEMO_API_KEY));
        out_line(&format!("export PARTLY_INTEGRATION_ID={}", partly_mock::DEMO_INTEGRATION_ID));
        out_line(&format!(
            "# demo OAuth client: --client-id {} (secret {}); repairer site {}",
            partly_mock::DEMO_CLIENT_ID,
            partly_mock::DEMO_CLIENT_SECRET,
            partly_mock::DEMO_SITE_ID
        ));
        out_line(&format!(
            "# demo job: --external {} or --id {}",
            partly_mock::DEMO_JOB_EXTERNAL_ID,
            partly_mock::DEMO_JOB_ID
        ));
        if std::io::stdout().is_terminal() {
            out_line("# Ctrl-C stops it");
        }
    }
    stop.await;
    server.shutdown().await;
    EXIT_OK
}

/// The README's code blocks, compiled as doctests so that they cannot rot (its shell lines run
/// in tests/readme.rs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
