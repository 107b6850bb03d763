//! Bulk preload (`prepare_all` / `prepare_stream`) against `partly-mock`: lazy input, bad items
//! deep in the stream, 429 storms, the deadline, and resuming from a checkpoint after SIGKILL.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, mock};
use partly::{BulkItem, ErrorKind, InputError, PrepareAllOptions, VehicleIdentifier};
use partly_mock::{MockConfig, MockServer};

fn vin(i: usize) -> VehicleIdentifier {
    VehicleIdentifier::chassis_number(format!("VIN{i:08}"))
}

#[tokio::test]
async fn an_iterator_is_pulled_as_capacity_frees_up_not_all_at_once() {
    let mock = mock().await;
    let c = client(&mock);
    let pulled = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&pulled);
    let input = (0..10_000).map(move |i| {
        p.fetch_add(1, Ordering::Relaxed);
        vin(i)
    });
    let seen_at_first: Arc<Mutex<Option<(usize, usize)>>> = Arc::default();
    let s = Arc::clone(&seen_at_first);
    let p = Arc::clone(&pulled);
    let opts = PrepareAllOptions::default().batch_size(10).max_concurrency(2).on_progress(move |prog| {
        s.lock().unwrap().get_or_insert((p.load(Ordering::Relaxed), prog.done));
    });
    let report = c.tier1().prepare_all(input, opts).await.unwrap();
    assert_eq!((report.total, report.accepted, report.failed), (10_000, 10_000, 0));
    let (pulled_then, done_then) = seen_at_first.lock().unwrap().unwrap();
    // At the first answer, at most 2 × max_concurrency batches (and one being filled) were read.
    assert!(pulled_then <= 5 * 10, "{pulled_then} identifiers read before the first answer");
    assert_eq!(done_then, 10);
    assert!(report.failures().is_empty(), "accepted identifiers are not kept");
    assert_eq!(mock.prepared_stats().distinct, 10_000);
    assert_eq!(mock.prepared_stats().duplicates, 0);
}

#[tokio::test]
async fn a_stream_with_a_bad_item_deep_inside_reports_it_and_goes_on() {
    let mock = mock().await;
    let c = client(&mock);
    let items = futures_util::stream::iter((0..5_000).map(|i| match i {
        3_141 => Err(InputError::new("None", "a vehicle identifier is a chassis number (string) or an object")),
        4_000 => Ok(VehicleIdentifier::chassis_number("  ")),
        _ => Ok(vin(i)),
    }));
    let batches = Arc::new(AtomicUsize::new(0));
    let b = Arc::clone(&batches);
    let opts = PrepareAllOptions::default().on_batch(move |batch| {
        assert!(batch.error.is_none());
        assert_eq!(batch.indices.len(), batch.identifiers.len());
        b.fetch_add(1, Ordering::Relaxed);
    });
    let report = c.tier1().prepare_stream(items, opts).await.unwrap();
    assert_eq!((report.total, report.accepted, report.failed), (5_000, 4_998, 2));
    let f = report.failures();
    assert_eq!((f[0].index, f[0].given.as_deref(), f[0].identifier.as_ref()), (3_141, Some("None"), None));
    assert!(f[0].error.message().starts_with("identifiers[3141]: a vehicle identifier is"), "{}", f[0].error);
    assert_eq!(f[0].error.kind(), ErrorKind::Validation);
    assert_eq!(f[1].index, 4_000);
    assert!(f[1].error.message().contains("chassis_number is empty"), "{}", f[1].error);
    assert_eq!(batches.load(Ordering::Relaxed), 50);
    assert_eq!(mock.prepared_stats().distinct, 4_998);
    // Plain identifiers and strings stream too.
    let report = c
        .tier1()
        .prepare_stream(futures_util::stream::iter(["A1", "A2"].map(BulkItem::from)), PrepareAllOptions::default())
        .await
        .unwrap();
    assert_eq!(report.accepted, 2);
}

#[tokio::test]
async fn a_429_storm_is_waited_out_without_failures_or_spent_retries() {
    let mock = MockServer::start(MockConfig { rate_limit: Some(100.0), rate_burst: Some(2), ..Default::default() })
        .await
        .unwrap();
    let c = client(&mock);
    // No retries at all: a 429 must not spend them.
    let opts = PrepareAllOptions::default().batch_size(10).call(partly::CallOptions::default().max_retries(0));
    let report = c.tier1().prepare_all((0..1_500).map(vin), opts).await.unwrap();
    assert_eq!((report.accepted, report.failed), (1_500, 0), "{:?}", report.failures().first());
    assert!(report.throttled > 0, "the mock's limit was hit");
    assert_eq!(report.requests, 150 + report.throttled);
    let stats = mock.prepared_stats();
    assert_eq!((stats.distinct, stats.duplicates), (1_500, 0));
    let answered_429 = mock.requests().iter().filter(|r| r.status == Some(429)).count();
    assert_eq!(answered_429, report.throttled);
}

#[tokio::test]
async fn the_deadline_ends_the_run_and_every_identifier_is_accounted_for() {
    let mock = MockServer::start(MockConfig { rate_limit: Some(20.0), rate_burst: Some(1), ..Default::default() })
        .await
        .unwrap();
    let c = client(&mock);
    let opts = PrepareAllOptions::default().batch_size(10).deadline(Duration::from_millis(700));
    let report = c.tier1().prepare_all((0..20_000).map(vin), opts).await.unwrap();
    assert!(report.deadline_reached);
    assert_eq!(report.total, 20_000, "the rest of the input was read and reported");
    assert_eq!(report.accepted + report.failed, 20_000);
    assert!(report.accepted > 0 && report.accepted < 2_000, "{}", report.accepted);
    let last = report.failures().last().unwrap();
    assert_eq!(last.index, 19_999);
    assert_eq!(last.error.kind(), ErrorKind::Timeout);
    assert!(last.error.message().contains("deadline (700 ms) passed"), "{}", last.error);
    let mut indices: Vec<usize> = report.failures().iter().map(|f| f.index).collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), report.failed, "each failed identifier once");
    assert!(mock.prepared_stats().distinct as usize >= report.accepted);
}

#[tokio::test]
async fn max_rate_and_fixed_mode_are_honoured() {
    let mock = mock().await;
    let c = client(&mock);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let opts =
        PrepareAllOptions::default().batch_size(1).max_rate(50.0).adaptive(false).max_concurrency(3).on_progress(
            move |p| {
                s.lock().unwrap().push((p.concurrency, p.rate));
            },
        );
    let report = c.tier1().prepare_all((0..10).map(vin), opts).await.unwrap();
    assert_eq!(report.accepted, 10);
    assert!(seen.lock().unwrap().iter().all(|(c, r)| *c == 3 && *r == Some(50.0)));
}

#[tokio::test]
async fn missing_credentials_and_a_checkpoint_for_another_input_fail_before_sending() {
    let mock = mock().await;
    let no_key = common::builder(&mock).build().unwrap();
    let err = no_key.tier1().prepare_all((0..5).map(vin), PrepareAllOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(err.message().contains("needs an API key"), "{err}");
    let dir = tempdir("other-input");
    let path = dir.join("cp.json");
    let c = client(&mock);
    let r = c.tier1().prepare_all((0..5).map(vin), PrepareAllOptions::default().checkpoint(&path)).await.unwrap();
    assert_eq!(r.accepted, 5);
    let again = c.tier1().prepare_all((0..5).map(vin), PrepareAllOptions::default().checkpoint(&path)).await.unwrap();
    assert_eq!((again.skipped, again.accepted, again.requests), (5, 0, 0), "nothing sent twice");
    let before = mock.requests().len();
    let err =
        c.tier1().prepare_all((100..105).map(vin), PrepareAllOptions::default().checkpoint(&path)).await.unwrap_err();
    assert!(err.message().contains("was written for another input"), "{err}");
    assert_eq!(mock.requests().len(), before);
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("partly-bulk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const RESUME_N: usize = 30_000;

/// The child of `resume_after_sigkill_sends_exactly_the_rest`: preloads into the mock at
/// `PARTLY_BULK_CHILD_URL`, printing `accepted N` after each request, until it is killed.
#[tokio::test]
async fn resume_child() {
    let (Ok(url), Ok(cp)) = (std::env::var("PARTLY_BULK_CHILD_URL"), std::env::var("PARTLY_BULK_CHILD_CHECKPOINT"))
    else {
        return; // Only runs as the child.
    };
    let c = partly::Client::builder()
        .base_url(url)
        .api_key(partly_mock::DEMO_API_KEY)
        .integration_id(partly_mock::DEMO_INTEGRATION_ID)
        .build()
        .unwrap();
    let opts = PrepareAllOptions::default().max_rate(20.0).checkpoint(cp).on_progress(|p| {
        println!("accepted {}", p.accepted);
    });
    c.tier1().prepare_all((0..RESUME_N).map(vin), opts).await.unwrap();
}

#[tokio::test]
async fn resume_after_sigkill_sends_exactly_the_rest() {
    use std::io::BufRead;
    let mock = mock().await;
    let dir = tempdir("resume");
    let cp = dir.join("preload.checkpoint");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "resume_child", "--nocapture", "--test-threads=1"])
        .env("PARTLY_BULK_CHILD_URL", mock.url())
        .env("PARTLY_BULK_CHILD_CHECKPOINT", &cp)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read the child's progress on a thread; kill it (SIGKILL) once it is well under way.
    let accepted_at_kill = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("accepted ").and_then(|n| n.parse::<usize>().ok()) {
                if n >= 5_000 {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    return n;
                }
            }
        }
        let status = child.wait().unwrap();
        panic!("the child ended ({status}) before it was killed");
    })
    .await
    .unwrap();
    assert!(mock.prepared_stats().distinct as usize >= accepted_at_kill);
    assert!((mock.prepared_stats().distinct as usize) < RESUME_N, "killed midway");

    let c = client(&mock);
    let report =
        c.tier1().prepare_all((0..RESUME_N).map(vin), PrepareAllOptions::default().checkpoint(&cp)).await.unwrap();
    assert!(report.is_success());
    assert_eq!(report.total, RESUME_N);
    assert_eq!(report.skipped + report.accepted, RESUME_N);
    assert!(report.skipped >= 2_000, "what the checkpoint recorded was not sent again: {}", report.skipped);
    let stats = mock.prepared_stats();
    assert_eq!(stats.distinct as usize, RESUME_N, "the server has exactly the input");
    assert!(
        stats.duplicates as usize <= report.duplicates_possible,
        "duplicates {} only where the outcome was unknown ({} counted)",
        stats.duplicates,
        report.duplicates_possible
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_failure_echoing_the_api_key_is_scrubbed_in_the_report() {
    let mock = mock().await;
    let c = client(&mock);
    let key = partly_mock::DEMO_API_KEY;
    mock.inject_fault(common::fault(serde_json::json!({
        "method": "tier1.prepare", "times": 1, "status": 400,
        "body": format!("{{\"type\":\"bad_request\",\"message\":\"bad key {key}\"}}"),
        "headers": {"content-type": "application/json"}
    })))
    .unwrap();
    let report = c.tier1().prepare_all((0..10).map(vin), PrepareAllOptions::default().batch_size(5)).await.unwrap();
    assert_eq!(report.failed, 5);
    let shown = format!("{:?} {} {:?}", report, report.failures()[0].error, report.failures()[0].error.body());
    assert!(!shown.contains(key), "{shown}");
}
