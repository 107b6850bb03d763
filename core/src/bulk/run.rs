//! The bulk preload driver: pulls the input lazily, sends batches under the limiter, waits out
//! 429s and queues those batches again, keeps the checkpoint, and ends at the deadline.

use std::collections::{HashMap, VecDeque};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, Stream, StreamExt};
use tokio::time::Instant;

use super::checkpoint::{self, Checkpoint};
use super::limiter::{Limiter, Signal};
use super::{BulkItem, PrepareAllOptions, PrepareBatch, PrepareFailure, PrepareProgress, PrepareReport};
use crate::client::{CallOptions, Client, Hooks};
use crate::config::defaults;
use crate::error::{Error, ErrorKind};
use crate::methods;
use crate::models::{PrepareResponse, VehicleIdentifier};

/// A batch waiting for its answer (or for its `Retry-After`).
struct Batch {
    indices: Vec<usize>,
    ids: Arc<Vec<VehicleIdentifier>>,
    throttled: u32,
    /// Waiting out a 429 (not counted against the concurrency limit).
    parked: bool,
}

enum Outcome {
    Accepted,
    Throttled(Error),
    Failed(Error),
}

struct Done {
    key: u64,
    outcome: Outcome,
    /// An attempt with an unknown outcome was followed by another attempt.
    resent_unknown: bool,
}

/// Counters the requests update as they go.
#[derive(Default)]
struct Counters {
    requests: AtomicUsize,
    throttled: AtomicUsize,
}

fn fmt_duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

/// One request of a batch (after waiting `wait`, under the limiter).
async fn send_one(
    client: &Client,
    limiter: &Limiter,
    counters: &Counters,
    call: &CallOptions,
    key: u64,
    ids: Arc<Vec<VehicleIdentifier>>,
    wait: Option<Duration>,
) -> Done {
    if let Some(w) = wait {
        tokio::time::sleep(w).await;
    }
    let _permit = limiter.acquire().await;
    let unknown = AtomicBool::new(false);
    let resent_unknown = AtomicBool::new(false);
    let observe = |status: Option<u16>, latency: Duration, maybe_sent: bool| {
        counters.requests.fetch_add(1, Ordering::Relaxed);
        if unknown.swap(maybe_sent, Ordering::Relaxed) {
            resent_unknown.store(true, Ordering::Relaxed);
        }
        let signal = Signal::of(status);
        if signal == Signal::Throttled {
            counters.throttled.fetch_add(1, Ordering::Relaxed);
        }
        limiter.observe(signal, latency);
    };
    let hooks = Hooks { return_on_throttle: true, observe: &observe };
    let m = methods::TIER1_PREPARE;
    #[derive(serde::Serialize)]
    struct Body<'a> {
        identifiers: &'a [VehicleIdentifier],
    }
    let result: Result<PrepareResponse, Error> =
        client.execute_hooked(m.name, m, &Body { identifiers: &ids }, call, &[], Some(&hooks)).await.map(|r| r.value);
    let outcome = match result {
        Ok(_) => Outcome::Accepted,
        Err(e) if e.status() == Some(429) => Outcome::Throttled(e),
        Err(e) => Outcome::Failed(e),
    };
    Done { key, outcome, resent_unknown: resent_unknown.load(Ordering::Relaxed) }
}

struct Driver<'a> {
    options: &'a PrepareAllOptions,
    total_hint: Option<usize>,
    started: Instant,
    report: PrepareReport,
    read: usize,
    batches: HashMap<u64, Batch>,
    next_key: u64,
    checkpoint: Option<Checkpoint>,
    last_save: Instant,
    claim_reserve: u64,
}

impl Driver<'_> {
    fn fail(&mut self, index: usize, identifier: Option<VehicleIdentifier>, given: Option<String>, error: Arc<Error>) {
        self.report.failed += 1;
        self.report.failures.push(PrepareFailure { index, identifier, given, error });
    }

    /// Takes one input item: `Some` when it is to be sent, else it is settled here (bad input,
    /// or accepted by an earlier run).
    fn take(&mut self, item: BulkItem) -> Option<(usize, VehicleIdentifier)> {
        let index = self.read;
        self.read += 1;
        let m = methods::TIER1_PREPARE;
        match item {
            BulkItem::Invalid(e) => {
                let err = Error::validation(format!("identifiers[{index}]: {}", e.message)).with_method(m.name);
                self.fail(index, None, Some(e.given), Arc::new(err));
                None
            }
            BulkItem::Identifier(id) => {
                if let Err(e) = id.validate() {
                    let err = e.map_message(|msg| format!("identifiers[{index}]: {msg}")).with_method(m.name);
                    self.fail(index, Some(id), None, Arc::new(err));
                    return None;
                }
                if self.checkpoint.as_ref().is_some_and(|c| c.is_accepted(index as u64)) {
                    self.report.skipped += 1;
                    return None;
                }
                Some((index, id))
            }
        }
    }

    fn progress(&self, limiter: &Limiter, counters: &Counters) -> PrepareProgress {
        let r = &self.report;
        PrepareProgress {
            total: self.total_hint,
            read: self.read,
            done: r.accepted + r.failed + r.skipped,
            accepted: r.accepted,
            failed: r.failed,
            skipped: r.skipped,
            in_flight: limiter.in_flight(),
            concurrency: limiter.limit(),
            rate: limiter.rate(),
            throttled: counters.throttled.load(Ordering::Relaxed),
            requests: counters.requests.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
        }
    }

    fn save_checkpoint(&mut self, force: bool) {
        let due = force || self.last_save.elapsed() >= defaults::PREPARE_CHECKPOINT_INTERVAL;
        if let Some(cp) = self.checkpoint.as_mut().filter(|c| c.is_dirty() && due) {
            if let Err(e) = cp.save() {
                tracing::warn!(target: "partly", "prepare_all could not save its checkpoint: {e}");
            }
            self.last_save = Instant::now();
        }
    }

    /// Registers a new batch: claims its indices in the checkpoint first (written before any
    /// of them is sent), counts identifiers resent after an earlier run's unknown outcome.
    fn register(
        &mut self,
        items: Vec<(usize, VehicleIdentifier)>,
    ) -> Result<(u64, Arc<Vec<VehicleIdentifier>>), Error> {
        let (indices, ids): (Vec<usize>, Vec<VehicleIdentifier>) = items.into_iter().unzip();
        if let Some(cp) = self.checkpoint.as_mut() {
            let last = indices.last().copied().unwrap_or(0) as u64;
            self.report.duplicates_possible += indices.iter().filter(|i| (**i as u64) < cp.previous_claimed).count();
            if last >= cp.claimed() {
                cp.set_claimed(last + 1 + self.claim_reserve);
                cp.save()?;
                self.last_save = Instant::now();
            }
        }
        let key = self.next_key;
        self.next_key += 1;
        let ids = Arc::new(ids);
        self.batches.insert(key, Batch { indices, ids: Arc::clone(&ids), throttled: 0, parked: false });
        Ok((key, ids))
    }

    fn settle(&mut self, batch: Batch, error: Option<Error>) {
        let error = error.map(Arc::new);
        let n = batch.indices.len();
        match &error {
            None => {
                self.report.accepted += n;
                if let Some(cp) = self.checkpoint.as_mut() {
                    cp.accept(&batch.indices);
                }
            }
            Some(e) => {
                self.report.failed += n;
                self.report.failures.extend(batch.indices.iter().zip(batch.ids.iter()).map(|(i, id)| PrepareFailure {
                    index: *i,
                    identifier: Some(id.clone()),
                    given: None,
                    error: Arc::clone(e),
                }));
            }
        }
        if let Some(cb) = &self.options.on_batch {
            let Batch { indices, ids, throttled, .. } = batch;
            let identifiers = Arc::try_unwrap(ids).unwrap_or_else(|a| (*a).clone());
            cb(&PrepareBatch { indices, identifiers, error, throttled });
        }
    }
}

/// Runs a bulk preload over `input`. `Err` only for bad options or a checkpoint that cannot
/// be used, before anything is sent.
pub(crate) async fn run<S>(
    client: &Client,
    input: S,
    total_hint: Option<usize>,
    options: PrepareAllOptions,
) -> Result<PrepareReport, Error>
where
    S: Stream<Item = BulkItem>,
{
    let m = methods::TIER1_PREPARE;
    options.validate().map_err(|e| e.with_method(m.name))?;
    client.require_auth(m.name, m)?;
    let started = Instant::now();
    let deadline_at = options.deadline.map(|d| started + d);
    let mut input = pin!(input);
    let limiter = Limiter::new(options.adaptive, options.max_concurrency, options.max_rate);
    let counters = Counters::default();
    let batch_size = options.batch_size;
    // Batches waiting out a 429: a bound on memory (max_concurrency in flight, and up to four
    // times as many waiting out a Retry-After without stopping the others from being sent).
    let cap = options.max_concurrency * 4;

    let mut driver = Driver {
        options: &options,
        total_hint,
        started,
        report: PrepareReport::default(),
        read: 0,
        batches: HashMap::new(),
        next_key: 0,
        checkpoint: None,
        last_save: started,
        claim_reserve: (options.max_concurrency * batch_size * 4) as u64,
    };

    // With a checkpoint: read the first identifiers ahead to check it is for this input.
    let mut head: VecDeque<BulkItem> = VecDeque::new();
    if let Some(path) = &options.checkpoint {
        let mut cp = Checkpoint::open(path).map_err(|e| e.with_method(m.name))?;
        while head.len() < checkpoint::FINGERPRINT_ITEMS {
            match input.next().await {
                Some(item) => head.push_back(item),
                None => break,
            }
        }
        let ids: Vec<VehicleIdentifier> = head
            .iter()
            .map(|i| match i {
                BulkItem::Identifier(id) => id.clone(),
                BulkItem::Invalid(e) => VehicleIdentifier::chassis_number(format!("\u{0}{}", e.given)),
            })
            .collect();
        cp.check_input(checkpoint::fingerprint(ids.iter())).map_err(|e| e.with_method(m.name))?;
        cp.save().map_err(|e| e.with_method(m.name))?;
        driver.checkpoint = Some(cp);
    }

    let mut tasks = FuturesUnordered::new();
    let mut current: Vec<(usize, VehicleIdentifier)> = Vec::with_capacity(batch_size);
    // Full batches read ahead of sending: under a rate limit about a Retry-After's worth, so
    // that the end of the input is known while a 429 could still delay the end of the run.
    let mut ready: VecDeque<Vec<(usize, VehicleIdentifier)>> = VecDeque::new();
    let mut exhausted = false;
    let mut parked = 0usize;
    let deadline_sleep = async {
        match deadline_at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    let mut deadline_sleep = pin!(deadline_sleep);
    let mut deadline_hit = false;

    loop {
        // Items read ahead for the checkpoint come first.
        while current.len() < batch_size {
            let Some(item) = head.pop_front() else { break };
            if let Some(x) = driver.take(item) {
                current.push(x);
            }
        }
        if current.len() >= batch_size || (exhausted && !current.is_empty()) {
            ready.push_back(std::mem::replace(&mut current, Vec::with_capacity(batch_size)));
        }
        if exhausted {
            // Once what is left takes less than a Retry-After, a 429 would hold up the end of
            // the run by a whole Retry-After: the rate stops probing above what was accepted.
            limiter.left(ready.len() + tasks.len());
        }
        let room = tasks.len() - parked < limiter.limit() && parked < cap;
        if room && !ready.is_empty() {
            let batch = ready.pop_front().unwrap_or_default();
            let (key, ids) = driver.register(batch).map_err(|e| e.with_method(m.name))?;
            tasks.push(send_one(client, &limiter, &counters, &options.call, key, ids, None));
            continue;
        }
        if exhausted && ready.is_empty() && current.is_empty() && tasks.is_empty() {
            break;
        }
        let want_input = !exhausted && head.is_empty() && ready.len() < limiter.lookahead(options.max_concurrency);
        tokio::select! {
            biased;
            _ = &mut deadline_sleep, if !deadline_hit => {
                deadline_hit = true;
                break;
            }
            done = tasks.next(), if !tasks.is_empty() => {
                let Some(Done { key, outcome, resent_unknown }) = done else { continue };
                let Some(mut batch) = driver.batches.remove(&key) else { continue };
                if batch.parked {
                    parked -= 1;
                }
                if resent_unknown {
                    driver.report.duplicates_possible += batch.indices.len();
                }
                match outcome {
                    Outcome::Accepted => driver.settle(batch, None),
                    Outcome::Failed(e) => driver.settle(batch, Some(e)),
                    Outcome::Throttled(e) if batch.throttled >= defaults::PREPARE_THROTTLE_REQUEUES_MAX => {
                        let e = e.map_message(|msg| {
                            format!("{msg} (answered 429 {} times; each waited out and queued again)", batch.throttled + 1)
                        });
                        driver.settle(batch, Some(e));
                    }
                    Outcome::Throttled(e) => {
                        batch.throttled += 1;
                        batch.parked = true;
                        parked += 1;
                        let wait = e.retry_after().unwrap_or(defaults::PREPARE_THROTTLE_WAIT).min(defaults::RETRY_AFTER_MAX);
                        let ids = Arc::clone(&batch.ids);
                        driver.batches.insert(key, batch);
                        tasks.push(send_one(client, &limiter, &counters, &options.call, key, ids, Some(wait)));
                        continue;
                    }
                }
                driver.save_checkpoint(false);
                if let Some(cb) = &options.on_progress {
                    cb(driver.progress(&limiter, &counters));
                }
            }
            item = input.next(), if want_input => {
                match item {
                    Some(item) => {
                        if let Some(x) = driver.take(item) {
                            current.push(x);
                        }
                    }
                    None => exhausted = true,
                }
            }
        }
    }

    if deadline_hit {
        // Abandon what is in flight or waiting; everything not accepted fails with the reason.
        drop(tasks);
        driver.report.deadline_reached = true;
        let after = fmt_duration(options.deadline.unwrap_or_default());
        let in_flight = Arc::new(
            Error::new(
                ErrorKind::Timeout,
                format!("the run's deadline ({after}) passed before this request was answered; its outcome is unknown (the server may have accepted it)"),
            )
            .with_method(m.name),
        );
        let waiting = Arc::new(
            Error::new(
                ErrorKind::Timeout,
                format!("the run's deadline ({after}) passed while this request waited out a rate limit (429); not accepted"),
            )
            .with_method(m.name),
        );
        let unsent = Arc::new(
            Error::new(
                ErrorKind::Timeout,
                format!("the run's deadline ({after}) passed before this identifier was sent"),
            )
            .with_method(m.name),
        );
        let mut left: Vec<Batch> = driver.batches.drain().map(|(_, b)| b).collect();
        left.sort_by_key(|b| b.indices.first().copied());
        for b in left {
            let e = if b.parked { &waiting } else { &in_flight };
            for (i, id) in b.indices.iter().zip(b.ids.iter()) {
                driver.fail(*i, Some(id.clone()), None, Arc::clone(e));
            }
        }
        for (i, id) in ready.into_iter().flatten().chain(std::mem::take(&mut current)) {
            driver.fail(i, Some(id), None, Arc::clone(&unsent));
        }
        // The rest of the input is read (not sent) so that every identifier is accounted for.
        let mut rest = head.into_iter().map(Some).chain(std::iter::repeat_with(|| None));
        loop {
            let item = match rest.next().flatten() {
                Some(item) => Some(item),
                None if exhausted => None,
                None => input.next().await,
            };
            let Some(item) = item else { break };
            if let Some((i, id)) = driver.take(item) {
                driver.fail(i, Some(id), None, Arc::clone(&unsent));
            }
        }
    }
    driver.save_checkpoint(true);
    if let Some(cb) = &options.on_progress {
        cb(driver.progress(&limiter, &counters));
    }
    let mut report = std::mem::take(&mut driver.report);
    report.total = driver.read;
    report.requests = counters.requests.load(Ordering::Relaxed);
    report.throttled = counters.throttled.load(Ordering::Relaxed);
    report.elapsed = started.elapsed();
    report.concurrency = limiter.limit();
    Ok(report)
}
