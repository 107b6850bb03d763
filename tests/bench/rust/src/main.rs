//! One benchmark client process: makes `--calls` calls of one scenario with `--concurrency`
//! in flight, through the partly core or bare reqwest (the floor for any client here), and
//! prints one JSON line: wall seconds, CPU seconds (user + system) and peak resident memory.
//!
//! Run by `tests/bench/run.py`, which pins it to one core and the mock to the other.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::stream::{self, StreamExt};
use partly::{Client, JobData, JobIdentity, JobInsert, PrepareAllOptions, VehicleIdentifier};
use serde_json::{json, Value};

const DEMO_API_KEY: &str = "pk_demo_7c1f0e5a2b9d4c83a6e15f0b9d2c4e71";
const DEMO_INTEGRATION_ID: &str = "6f2d8a41-93c5-4b7e-a0d2-1c5e9b7f3a60";
const DEMO_SITE_ID: &str = "2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85";

#[derive(Parser)]
struct Args {
    /// partly | reqwest
    #[arg(long)]
    client: String,
    /// get | insert | prepare | bulk | memory
    #[arg(long)]
    scenario: String,
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 2000)]
    calls: usize,
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// For `memory`: also report resident memory after this many calls.
    #[arg(long, default_value_t = 1000)]
    warm_calls: usize,
    /// partly: offer HTTP/2 over TLS (`false`: HTTP/1.1 only).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    http2: bool,
    /// partly: a PEM file of extra trusted roots (the TLS mock's CA).
    #[arg(long)]
    ca_bundle: Option<String>,
}

fn rusage() -> (f64, u64) {
    // SAFETY: getrusage only writes into the struct we pass it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss as u64)
}

fn rss_now_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn identifiers(n: usize, salt: usize) -> Vec<VehicleIdentifier> {
    (0..n).map(|i| VehicleIdentifier::chassis_number(format!("JH4KA7561PC{:06}", salt * 1000 + i))).collect()
}

enum Target {
    Partly(Client),
    Reqwest(reqwest::Client, String),
}

impl Target {
    async fn call(&self, scenario: &str, i: usize) -> Result<(), String> {
        match self {
            Target::Partly(c) => match scenario {
                "get" | "memory" => c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.map(|_| ()),
                "insert" => {
                    let mut d = JobData::new(DEMO_SITE_ID.parse().map_err(|e| format!("{e}"))?);
                    d.claim_number = Some(format!("CLM-{i}"));
                    c.jobs().insert(JobInsert::new(JobIdentity::external("BENCH-1"), d)).await.map(|_| ())
                }
                "prepare" => c.tier1().prepare(identifiers(100, i % 7)).await.map(|_| ()),
                other => return Err(format!("unknown scenario {other}")),
            }
            .map_err(|e| e.to_string()),
            Target::Reqwest(http, base) => {
                let (method, body) = match scenario {
                    "get" | "memory" => ("jobs.get", json!({"identity": {"external": "CCC-2026-04817"}})),
                    "insert" => (
                        "jobs.insert",
                        json!({"data": {"repairer_site_id": DEMO_SITE_ID, "claim_number": format!("CLM-{i}")}, "identity": {"external": "BENCH-1"}, "if_": {"exists": "update"}}),
                    ),
                    "prepare" => (
                        "tier1.prepare",
                        json!({"identifiers": (0..100).map(|k| json!({"chassis_number": format!("JH4KA7561PC{:06}", (i % 7) * 1000 + k)})).collect::<Vec<_>>()}),
                    ),
                    other => return Err(format!("unknown scenario {other}")),
                };
                let resp = http
                    .post(format!("{base}/api/2026-01/{method}"))
                    .header("content-type", "application/json")
                    .header("accept", "application/json")
                    .header("authorization", format!("Bearer {DEMO_API_KEY}"))
                    .header("partly-integration-id", DEMO_INTEGRATION_ID)
                    .body(serde_json::to_vec(&body).map_err(|e| e.to_string())?)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !resp.status().is_success() {
                    return Err(format!("status {}", resp.status()));
                }
                let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
                let _v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                Ok(())
            }
        }
    }
}

async fn run(target: Arc<Target>, scenario: &str, calls: usize, concurrency: usize) -> Result<usize, String> {
    let results: Vec<Result<(), String>> = stream::iter(0..calls)
        .map(|i| {
            let t = target.clone();
            let s = scenario.to_string();
            async move { t.call(&s, i).await }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        return Err(format!("{failed} calls failed, e.g. {e}"));
    }
    Ok(calls)
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let target = Arc::new(match args.client.as_str() {
            "partly" => {
                let mut b = Client::builder()
                    .base_url(&args.url)
                    .api_key(DEMO_API_KEY)
                    .integration_id(DEMO_INTEGRATION_ID)
                    .http2(args.http2)
                    .no_proxy();
                if let Some(ca) = &args.ca_bundle {
                    b = b.ca_bundle(ca);
                }
                Target::Partly(b.build().map_err(|e| e.to_string())?)
            }
            "reqwest" => Target::Reqwest(
                reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?,
                args.url.trim_end_matches('/').to_string(),
            ),
            other => return Err(format!("unknown client {other}")),
        });
        if args.scenario == "soak" {
            // Every outcome accounted for: successes plus documented errors = calls made.
            let Target::Partly(c) = &*target else { return Err("soak is for partly only".into()) };
            let rss_start = rss_now_kb();
            let (cpu0, _) = rusage();
            let t0 = Instant::now();
            let outcomes: Vec<Result<(), partly::ErrorKind>> = stream::iter(0..args.calls)
                .map(|_| async { c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.map(|_| ()).map_err(|e| e.kind()) })
                .buffer_unordered(args.concurrency)
                .collect()
                .await;
            let wall = t0.elapsed().as_secs_f64();
            let (cpu1, maxrss) = rusage();
            let ok = outcomes.iter().filter(|o| o.is_ok()).count();
            let mut errors = serde_json::Map::new();
            for e in outcomes.iter().filter_map(|o| o.as_ref().err()) {
                let n = errors.entry(e.class_name()).or_insert(json!(0));
                *n = json!(n.as_u64().unwrap_or(0) + 1);
            }
            let accounted = ok + errors.values().filter_map(Value::as_u64).sum::<u64>() as usize;
            println!(
                "{}",
                json!({"calls": args.calls, "concurrency": args.concurrency, "ok": ok, "errors": errors, "accounted": accounted,
                       "wall_s": wall, "cpu_s": cpu1 - cpu0, "calls_per_s": args.calls as f64 / wall,
                       "rss_start_kb": rss_start, "rss_end_kb": rss_now_kb(), "max_rss_kb": maxrss})
            );
            return if accounted == args.calls { Ok(()) } else { Err("outcomes lost".into()) };
        }
        if args.scenario == "bulk" {
            let Target::Partly(c) = &*target else { return Err("bulk is for partly only".into()) };
            let ids = identifiers(args.calls, 0);
            let (cpu0, _) = rusage();
            let t0 = Instant::now();
            let report = c
                .tier1()
                .prepare_all(ids, PrepareAllOptions { max_concurrency: args.concurrency, adaptive: false, ..Default::default() })
                .await
                .map_err(|e| e.to_string())?;
            let wall = t0.elapsed().as_secs_f64();
            let (cpu1, maxrss) = rusage();
            if report.failed > 0 {
                return Err(format!("{} identifiers failed", report.failed));
            }
            println!("{}", json!({"calls": report.requests, "identifiers": report.total, "wall_s": wall, "cpu_s": cpu1 - cpu0, "max_rss_kb": maxrss}));
            return Ok(());
        }
        // Warm up: connections, allocator, lazy statics.
        run(target.clone(), &args.scenario, args.concurrency.max(20), args.concurrency).await?;
        let mut rss_after_warm = 0;
        if args.scenario == "memory" {
            run(target.clone(), &args.scenario, args.warm_calls, args.concurrency).await?;
            rss_after_warm = rss_now_kb();
        }
        let (cpu0, _) = rusage();
        let t0 = Instant::now();
        let n = run(target.clone(), &args.scenario, args.calls, args.concurrency).await?;
        let wall = t0.elapsed().as_secs_f64();
        let (cpu1, maxrss) = rusage();
        println!(
            "{}",
            json!({"calls": n, "wall_s": wall, "cpu_s": cpu1 - cpu0, "max_rss_kb": maxrss, "rss_after_warm_kb": rss_after_warm, "rss_end_kb": rss_now_kb()})
        );
        Ok(())
    })
}
