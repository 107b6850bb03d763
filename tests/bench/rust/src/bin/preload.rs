//! One bulk-preload benchmark process (Rust): `prepare_all` of `--n` identifiers from a lazy
//! iterator, `--mode adaptive` (the SDK's default) or `--mode fixed` (the behaviour before the
//! adaptive limiter: 8 requests of 100 in flight, each with the default 2 retries, a 429 waited
//! out within those retries). Prints one JSON line. Run by `tests/bench/preload.py`.

use std::time::Instant;

use clap::Parser;
use futures_util::stream::{self, StreamExt};
use partly::{Client, PrepareAllOptions, VehicleIdentifier};
use serde_json::json;

const DEMO_API_KEY: &str = "pk_demo_7c1f0e5a2b9d4c83a6e15f0b9d2c4e71";
const DEMO_INTEGRATION_ID: &str = "6f2d8a41-93c5-4b7e-a0d2-1c5e9b7f3a60";

#[derive(Parser)]
struct Args {
    #[arg(long)]
    url: String,
    #[arg(long)]
    n: usize,
    /// adaptive | fixed
    #[arg(long, default_value = "adaptive")]
    mode: String,
    /// Identifiers are made unique across processes with this prefix.
    #[arg(long, default_value = "P0")]
    prefix: String,
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let client = Client::builder()
            .base_url(&args.url)
            .api_key(DEMO_API_KEY)
            .integration_id(DEMO_INTEGRATION_ID)
            .build()
            .map_err(|e| e.to_string())?;
        let prefix = args.prefix.clone();
        let ids = (0..args.n).map(move |i| VehicleIdentifier::chassis_number(format!("{prefix}-{i:09}")));
        let rss0 = rss_kb("VmRSS:");
        let t0 = Instant::now();
        let (accepted, failed, throttled) = if args.mode == "fixed" {
            // Before: chunks of 100, 8 in flight, default retries; a 429 past them fails the batch.
            let mut it = ids;
            let batches = std::iter::from_fn(move || {
                let b: Vec<VehicleIdentifier> = it.by_ref().take(100).collect();
                (!b.is_empty()).then_some(b)
            });
            let results: Vec<(usize, bool)> = stream::iter(batches)
                .map(|b| {
                    let c = &client;
                    async move {
                        let n = b.len();
                        (n, c.tier1().prepare(b).await.is_ok())
                    }
                })
                .buffer_unordered(8)
                .collect()
                .await;
            let ok: usize = results.iter().filter(|r| r.1).map(|r| r.0).sum();
            let bad: usize = results.iter().filter(|r| !r.1).map(|r| r.0).sum();
            (ok, bad, None)
        } else {
            let report =
                client.tier1().prepare_all(ids, PrepareAllOptions::default()).await.map_err(|e| e.to_string())?;
            (report.accepted, report.failed, Some(report.throttled))
        };
        let elapsed = t0.elapsed().as_secs_f64();
        let peak = rss_kb("VmHWM:");
        println!(
            "{}",
            json!({"lang": "rust", "mode": args.mode, "n": args.n, "elapsed_s": elapsed, "accepted": accepted,
                   "failed": failed, "throttled": throttled, "rss_start_kb": rss0, "rss_peak_kb": peak,
                   "ids_per_s": args.n as f64 / elapsed})
        );
        Ok(())
    })
}
