//! `partly-mock [--host 127.0.0.1] [--port 0] [--latency-ms N] [--log-capacity N] [--chaos-rate R]
//! [--idle-timeout-ms N] [--rate-limit RPS [--rate-burst N]] [--tls [--http1-only] [--ca-file PATH]] [--redirect-url URL]...`
//!
//! Prints `listening on http://HOST:PORT` once ready (with `--tls`: `listening on
//! https://HOST:PORT`, then `ca certificate PATH`); stops on SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use partly_mock::{MockConfig, MockServer};

/// A local mock of Partly's Integrations API for tests and demos.
#[derive(Parser, Debug)]
#[command(name = "partly-mock", version, about)]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to bind (0: any free port; the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Delay added to every API answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Most requests kept in the request log (0 disables the log).
    #[arg(long)]
    log_capacity: Option<usize>,
    /// Share of API calls (0.0-1.0) that get a random retryable fault (soak tests).
    #[arg(long, default_value_t = 0.0)]
    chaos_rate: f64,
    /// Serve HTTPS with a certificate from a CA generated at start; the CA's path is printed.
    #[arg(long)]
    tls: bool,
    /// With --tls: offer only HTTP/1.1 (by default HTTP/2 is offered too).
    #[arg(long, requires = "tls")]
    http1_only: bool,
    /// With --tls: write the CA certificate (PEM) here instead of a new temporary directory.
    #[arg(long, requires = "tls")]
    ca_file: Option<std::path::PathBuf>,
    /// A redirect URL registered for the demo client: the authorize page sends the browser back
    /// only to these (exact match). Repeat it for more.
    #[arg(long = "redirect-url", value_name = "URL")]
    redirect_urls: Vec<String>,
    /// The gateway's rate limit in requests per second (a token bucket over every API method);
    /// above it, 429 with `Retry-After: 1`.
    #[arg(long, value_name = "RPS")]
    rate_limit: Option<f64>,
    /// With --rate-limit: the bucket's burst (default: a tenth of a second's worth, at least 1).
    #[arg(long, value_name = "N", requires = "rate_limit")]
    rate_burst: Option<u32>,
    /// Close a keep-alive connection idle this many milliseconds after an answer.
    #[arg(long)]
    idle_timeout_ms: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("partly-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let config = MockConfig {
        host: Some(args.host),
        port: args.port,
        latency: Duration::from_millis(args.latency_ms),
        log_capacity: args.log_capacity,
        chaos_rate: args.chaos_rate,
        tls: args.tls,
        http1_only: args.http1_only,
        ca_file: args.ca_file.clone(),
        redirect_urls: args.redirect_urls,
        idle_timeout: args.idle_timeout_ms.map(Duration::from_millis),
        rate_limit: args.rate_limit,
        rate_burst: args.rate_burst,
    };
    // Install the signal handlers before announcing readiness, so a SIGTERM sent right
    // after the line is read stops the server cleanly instead of killing it.
    let stop = match StopSignals::install() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("partly-mock: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match MockServer::start(config).await {
        Ok(server) => server,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            let option = if e.to_string().starts_with("rate") { "--rate-limit" } else { "--redirect-url" };
            eprintln!("partly-mock: {option}: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("partly-mock: cannot listen on {}:{}: {e}", args.host, args.port);
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        // If nobody reads stdout, keep serving anyway.
        let _ = writeln!(out, "listening on {}", server.url()).and_then(|()| out.flush());
        if let Some(ca) = server.ca_path() {
            let _ = writeln!(out, "ca certificate {}", ca.display()).and_then(|()| out.flush());
        }
    }
    stop.wait().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(unix)]
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignals {
    fn install() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn install() -> std::io::Result<StopSignals> {
        Ok(StopSignals)
    }

    async fn wait(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
