//! `partly preload FILE|-`: the vehicles of a CSV or a list, streamed through the SDK's bulk
//! preload, with a progress display, a checkpoint to resume from and a CSV of the failures.
//!
//! The input is read on its own thread into a bounded channel, so memory does not grow with the
//! file; only counts, the checkpoint's accepted ranges and (on disk) the failures are kept.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use partly::bulk::{BulkItem, InputError};
use partly::serde_json::{self, json, Value};
use partly::{PrepareAllOptions, PrepareProgress, VehicleIdentifier};
use tokio::sync::mpsc;

use crate::{err_line, out_line, Connection, Failure, EXIT_FAILED, EXIT_OK};

/// Identifiers read ahead of the requests.
const READ_AHEAD: usize = 4_096;

#[derive(Args, Debug)]
pub(crate) struct PreloadArgs {
    /// The file to read, or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    input: String,
    /// How to read the input: `csv` (with a header), `lines` (one identifier per line), or
    /// `auto` (CSV when the file ends in .csv or a column flag is given).
    #[arg(long, value_name = "FORMAT", value_parser = ["auto", "csv", "lines"], default_value = "auto")]
    format: String,
    /// CSV: the column of chassis numbers (VINs) [default: chassis_number or vin].
    #[arg(long, value_name = "NAME")]
    column: Option<String>,
    /// CSV: the column of registration plates [default: plate, when present]. A row with a
    /// plate is sent as a plate (Partly resolves plates better), else as its chassis number.
    #[arg(long, value_name = "NAME")]
    plate_column: Option<String>,
    /// CSV: the column of the plates' regions [default: region, when present].
    #[arg(long, value_name = "NAME")]
    region_column: Option<String>,
    /// Record what was accepted in FILE, and skip it when the same command runs again.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Where to write the identifiers that were not accepted, with their errors (a CSV that
    /// `partly preload` reads back) [default: INPUT.failures.csv next to the input, or
    /// partly-preload.failures.csv for stdin]. Written only when something failed.
    #[arg(long, value_name = "FILE")]
    failures: Option<PathBuf>,
    /// Identifiers per request, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = partly::config::defaults::PREPARE_BATCH_MAX)]
    batch_size: usize,
    /// The most requests in flight; the preload starts lower and adapts to what the server
    /// allows (429, 503, Retry-After, latency).
    #[arg(long, visible_alias = "concurrency", value_name = "N", default_value_t = partly::config::defaults::PREPARE_MAX_CONCURRENCY)]
    max_concurrency: usize,
    /// The most requests per second [default: no limit but the server's].
    #[arg(long, value_name = "RPS")]
    max_rate: Option<f64>,
    /// Stop after this many seconds: what was not accepted by then is reported failed (and sent
    /// by the next run with the same --checkpoint).
    #[arg(long, value_name = "SECS")]
    deadline: Option<f64>,
    /// Without a terminal: seconds between two progress lines on stderr (0: none).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    progress_interval: f64,
}

/// One identifier read from the input.
struct Item {
    /// The line it starts on (1-based), for messages and the failures file.
    line: u64,
    /// The identifier, or why the record is not one.
    id: Result<VehicleIdentifier, String>,
    /// The record as given, for the failures file.
    raw: Raw,
}

#[derive(Default, Clone)]
struct Raw {
    chassis_number: String,
    plate: String,
    region: String,
}

enum Msg {
    Item(Item),
    /// The input cannot be read further (a malformed CSV row, an I/O error).
    Fatal(String),
}

enum Format {
    Csv { chassis: Option<usize>, plate: Option<usize>, region: Option<usize> },
}

/// The opened input: everything that can be wrong with it up to its header is found here,
/// before anything is sent.
struct Source {
    name: String,
    total: Option<u64>,
    reader: Box<dyn Read + Send>,
}

fn open(args: &PreloadArgs) -> Result<Source, Failure> {
    if args.input == "-" {
        return Ok(Source { name: "stdin".into(), total: None, reader: Box::new(std::io::stdin()) });
    }
    let path = Path::new(&args.input);
    let file = File::open(path).map_err(|e| Failure::Input(format!("cannot read {}: {}", args.input, io_why(&e))))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Failure::Input(format!("cannot read {}: it is a directory; give a file", args.input)));
    }
    // The count of non-blank lines, for the progress bar's total and ETA (a second, quick read).
    let total = count_lines(path).ok();
    Ok(Source { name: args.input.clone(), total, reader: Box::new(file) })
}

fn io_why(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn count_lines(path: &Path) -> std::io::Result<u64> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let (mut lines, mut content) = (0u64, false);
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        for &b in buf {
            if b == b'\n' {
                lines += u64::from(content);
                content = false;
            } else if !b.is_ascii_whitespace() {
                content = true;
            }
        }
        let n = buf.len();
        reader.consume(n);
    }
    Ok(lines + u64::from(content))
}

fn is_csv(args: &PreloadArgs) -> bool {
    match args.format.as_str() {
        "csv" => true,
        "lines" => false,
        _ => {
            args.column.is_some()
                || args.plate_column.is_some()
                || args.region_column.is_some()
                || args.input.to_ascii_lowercase().ends_with(".csv")
        }
    }
}

/// Finds the columns in a CSV header: the named ones must exist; the defaults are looked for.
fn columns(headers: &csv::StringRecord, args: &PreloadArgs, name: &str) -> Result<Format, Failure> {
    let find = |wanted: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(wanted));
    let listed = || headers.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
    let named = |flag: &str, column: &Option<String>, defaults: &[&str]| -> Result<Option<usize>, Failure> {
        match column {
            Some(c) => find(c).map(Some).ok_or_else(|| {
                Failure::Input(format!(
                    "{name}: {flag} {c:?}: no such column in the header (its columns: {})",
                    listed()
                ))
            }),
            None => Ok(defaults.iter().find_map(|d| find(d))),
        }
    };
    let chassis = named("--column", &args.column, &["chassis_number", "vin", "chassis"])?;
    let plate = named("--plate-column", &args.plate_column, &["plate", "registration", "rego"])?;
    let region = named("--region-column", &args.region_column, &["region"])?;
    if chassis.is_none() && plate.is_none() {
        return Err(Failure::Input(format!(
            "{name}: no column of identifiers in the header (its columns: {}); name the chassis numbers' column with \
             --column NAME or the plates' with --plate-column NAME",
            listed()
        )));
    }
    Ok(Format::Csv { chassis, plate, region })
}

/// Reads the records on this thread, sending them in order; stops at the first record that
/// cannot be read.
fn read_csv(mut reader: csv::Reader<Box<dyn Read + Send>>, format: Format, name: String, tx: mpsc::Sender<Msg>) {
    let Format::Csv { chassis, plate, region } = format;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return,
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim().to_string();
                let raw = Raw { chassis_number: cell(chassis), plate: cell(plate), region: cell(region) };
                let id = if !raw.plate.is_empty() {
                    Ok(VehicleIdentifier::plate(raw.plate.clone(), Some(raw.region.clone())))
                } else if !raw.chassis_number.is_empty() {
                    Ok(VehicleIdentifier::chassis_number(raw.chassis_number.clone()))
                } else {
                    Err("no chassis number or plate in this row".to_string())
                };
                if tx.blocking_send(Msg::Item(Item { line, id, raw })).is_err() {
                    return;
                }
            }
            Err(e) => {
                let why = match e.kind() {
                    csv::ErrorKind::UnequalLengths { pos, expected_len, len } => format!(
                        "{name}:{}: malformed CSV row: it has {len} fields, the header has {expected_len}",
                        pos.as_ref().map(|p| p.line()).unwrap_or(0)
                    ),
                    csv::ErrorKind::Utf8 { pos, .. } => format!(
                        "{name}:{}: malformed CSV row: not UTF-8 text",
                        pos.as_ref().map(|p| p.line()).unwrap_or(0)
                    ),
                    csv::ErrorKind::Io(e) => format!("cannot read {name}: {}", io_why(e)),
                    _ => format!("{name}: malformed CSV: {e}"),
                };
                let _ = tx.blocking_send(Msg::Fatal(why));
                return;
            }
        }
    }
}

/// One identifier per line: a chassis number, or a JSON object (`{"plate": "ABC123"}`).
fn read_lines(reader: Box<dyn Read + Send>, name: String, tx: mpsc::Sender<Msg>) {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::new();
    let mut index = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return,
            Ok(_) => {
                let line = index + 1;
                index += 1;
                let Ok(text) = std::str::from_utf8(&buf) else {
                    let _ = tx.blocking_send(Msg::Fatal(format!("{name}:{line}: not UTF-8 text")));
                    return;
                };
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                let (id, raw) = if text.starts_with('{') {
                    let id = serde_json::from_str::<Value>(text)
                        .map_err(|e| format!("not a JSON object: {e}"))
                        .and_then(|v| VehicleIdentifier::from_json(v).map_err(|e| e.message().to_string()));
                    let raw = match &id {
                        Ok(VehicleIdentifier::Plate { plate, region }) => {
                            Raw { plate: plate.clone(), region: region.clone().unwrap_or_default(), ..Raw::default() }
                        }
                        _ => Raw { chassis_number: text.to_string(), ..Raw::default() },
                    };
                    (id, raw)
                } else {
                    (
                        Ok(VehicleIdentifier::chassis_number(text)),
                        Raw { chassis_number: text.to_string(), ..Raw::default() },
                    )
                };
                let id = id.and_then(|v| v.validate().map(|()| v).map_err(|e| e.message().to_string()));
                if tx.blocking_send(Msg::Item(Item { line, id, raw })).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Msg::Fatal(format!("cannot read {name}: {}", io_why(&e))));
                return;
            }
        }
    }
}

/// The failures file: one row per identifier not accepted, with its error.
struct Failures {
    path: PathBuf,
    writer: Option<csv::Writer<File>>,
}

impl Failures {
    fn write(&mut self, line: u64, raw: &Raw, class: &str, why: &str) -> Result<(), Failure> {
        let cannot = |e: csv::Error, path: &Path| {
            Failure::Input(format!(
                "cannot write the failures to {}: {e}; give another --failures FILE",
                path.display()
            ))
        };
        if self.writer.is_none() {
            let mut w = csv::Writer::from_path(&self.path).map_err(|e| cannot(e, &self.path))?;
            w.write_record(["line", "chassis_number", "plate", "region", "error_class", "error"])
                .map_err(|e| cannot(e, &self.path))?;
            self.writer = Some(w);
        }
        if let Some(w) = &mut self.writer {
            let line = line.to_string();
            w.write_record([line.as_str(), &raw.chassis_number, &raw.plate, &raw.region, class, why])
                .map_err(|e| cannot(e, &self.path))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Failure> {
        if let Some(w) = &mut self.writer {
            w.flush()
                .map_err(|e| Failure::Input(format!("cannot write the failures to {}: {e}", self.path.display())))?;
        }
        Ok(())
    }
}

fn default_failures_path(input: &str) -> PathBuf {
    if input == "-" {
        return PathBuf::from("partly-preload.failures.csv");
    }
    let path = Path::new(input);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "input".into());
    path.with_file_name(format!("{stem}.failures.csv"))
}

/// Where each item of the stream starts in the input: the line is the item's position plus an
/// offset that changes only at blank lines (and multi-line CSV fields), so only those changes
/// are kept.
#[derive(Default)]
struct Lines {
    /// position -> line - position, from that position on.
    offsets: BTreeMap<u64, u64>,
}

impl Lines {
    fn note(&mut self, position: u64, line: u64) {
        let offset = line.saturating_sub(position);
        if self.offsets.range(..=position).next_back().map(|(_, &o)| o) != Some(offset) {
            self.offsets.insert(position, offset);
        }
    }

    fn line(&self, position: u64) -> u64 {
        position + self.offsets.range(..=position).next_back().map(|(_, &o)| o).unwrap_or(1)
    }
}

fn raw_of(id: &VehicleIdentifier) -> Raw {
    match id {
        VehicleIdentifier::ChassisNumber(v) => Raw { chassis_number: v.clone(), ..Raw::default() },
        VehicleIdentifier::Plate { plate, region } => {
            Raw { plate: plate.clone(), region: region.clone().unwrap_or_default(), ..Raw::default() }
        }
        other => Raw { chassis_number: other.to_json().to_string(), ..Raw::default() },
    }
}

pub(crate) async fn run(args: PreloadArgs, conn: &Connection, json: bool) -> Result<i32, Failure> {
    let interval = if args.progress_interval == 0.0 {
        Duration::ZERO
    } else {
        partly::config::duration_from_secs(args.progress_interval, "--progress-interval")?
    };
    let client = crate::client(conn)?;
    let source = open(&args)?;
    let name = source.name.clone();
    // The header is read here, so an unknown column stops the run before anything is sent.
    let (tx, rx) = mpsc::channel::<Msg>(READ_AHEAD);
    let mut total = source.total;
    let spawn = |f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name("partly-preload-input".into())
            .spawn(f)
            .map(|_| ())
            .map_err(|e| Failure::Input(format!("cannot start the reader: {e}")))
    };
    if is_csv(&args) {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(source.reader);
        let headers =
            reader.headers().map_err(|e| Failure::Input(format!("{name}: cannot read the CSV header: {e}")))?.clone();
        let format = columns(&headers, &args, &name)?;
        total = total.map(|t| t.saturating_sub(1));
        let n = name.clone();
        spawn(Box::new(move || read_csv(reader, format, n, tx)))?;
    } else {
        let n = name.clone();
        let reader = source.reader;
        spawn(Box::new(move || read_lines(reader, n, tx)))?;
    }
    let failures_path = args.failures.clone().unwrap_or_else(|| default_failures_path(&args.input));
    if args.input != "-" && same_file(&failures_path, Path::new(&args.input)) {
        return Err(Failure::Input(format!(
            "the failures file {} is the input; give another --failures FILE",
            failures_path.display()
        )));
    }

    // The input as the bulk preload's stream: items in order; the first unreadable record ends it.
    let fatal: Arc<Mutex<Option<String>>> = Arc::default();
    let lines: Arc<Mutex<Lines>> = Arc::default();
    let stream = {
        let (fatal, lines) = (fatal.clone(), lines.clone());
        futures_util::stream::unfold((rx, 0u64), move |(mut rx, position)| {
            let (fatal, lines) = (fatal.clone(), lines.clone());
            async move {
                match rx.recv().await {
                    Some(Msg::Item(item)) => {
                        lines.lock().unwrap_or_else(|e| e.into_inner()).note(position, item.line);
                        let bulk = match item.id {
                            Ok(id) => BulkItem::Identifier(id),
                            Err(why) => {
                                let given =
                                    if item.raw.plate.is_empty() { item.raw.chassis_number } else { item.raw.plate };
                                BulkItem::Invalid(InputError::new(given, format!("line {}: {why}", item.line)))
                            }
                        };
                        Some((bulk, (rx, position + 1)))
                    }
                    Some(Msg::Fatal(why)) => {
                        *fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                        None
                    }
                    None => None,
                }
            }
        })
    };

    let progress: Arc<Mutex<Option<PrepareProgress>>> = Arc::default();
    let started = Instant::now();
    let display = Display::start(total, interval, progress.clone(), started);
    let mut options = PrepareAllOptions {
        batch_size: args.batch_size,
        max_concurrency: args.max_concurrency,
        max_rate: args.max_rate,
        checkpoint: args.checkpoint.clone(),
        ..Default::default()
    };
    if let Some(secs) = args.deadline {
        options.deadline = Some(partly::config::duration_from_secs(secs, "--deadline")?);
    }
    let sink = progress.clone();
    options.on_progress = Some(Arc::new(move |p: PrepareProgress| {
        *sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
    }));
    let result = client.tier1().prepare_stream_sized(stream, total.map(|t| t as usize), options).await;
    display.finish().await;
    let report = result?;

    let mut failures = Failures { path: failures_path, writer: None };
    // An older failures file lists failures this run has retried: it is replaced (or removed).
    let _ = std::fs::remove_file(&failures.path);
    {
        let lines = lines.lock().unwrap_or_else(|e| e.into_inner());
        for f in report.failures() {
            let line = lines.line(f.index as u64);
            let raw = match (&f.identifier, &f.given) {
                (Some(id), _) => raw_of(id),
                (None, Some(given)) => Raw { chassis_number: given.clone(), ..Raw::default() },
                (None, None) => Raw::default(),
            };
            failures.write(line, &raw, f.error.kind().class_name(), &f.error.to_string())?;
        }
    }
    failures.finish()?;
    let fatal = fatal.lock().unwrap_or_else(|e| e.into_inner()).take();
    let failures_file = failures.writer.is_some().then(|| failures.path.display().to_string());
    if report.skipped > 0 {
        if let Some(cp) = &args.checkpoint {
            err_line(&format!(
                "partly preload: resumed from {}: {} identifiers already accepted were skipped",
                cp.display(),
                report.skipped
            ));
        }
    }
    let secs = report.elapsed.as_secs_f64();
    if json {
        crate::emit(
            &json!({
                "input": name,
                "total": report.total,
                "accepted": report.accepted,
                "failed": report.failed,
                "skipped": report.skipped,
                "duplicates_possible": report.duplicates_possible,
                "throttled": report.throttled,
                "requests": report.requests,
                "elapsed_ms": (secs * 1000.0).round(),
                "deadline_reached": report.deadline_reached,
                "failures_file": failures_file,
                "checkpoint": args.checkpoint.as_ref().map(|p| p.display().to_string()),
                "input_error": fatal,
            }),
            true,
        );
    } else {
        let sent = report.accepted + report.failed;
        let mut line = format!(
            "preloaded {name}: {} read, {} accepted, {} failed, {} skipped (already accepted) in {secs:.2} s",
            report.total, report.accepted, report.failed, report.skipped
        );
        if secs > 0.0 && sent > 0 {
            line.push_str(&format!(" ({:.0}/s)", sent as f64 / secs));
        }
        if report.throttled > 0 {
            line.push_str(&format!("; the server throttled {} requests", report.throttled));
        }
        if report.deadline_reached {
            line.push_str("; the deadline was reached");
        }
        out_line(&line);
        if let Some(f) = &failures_file {
            out_line(&format!("failures: {f} (line, identifier, error; give it back to partly preload to retry them)"));
        }
    }
    if let Some(why) = fatal {
        return Err(Failure::Input(why));
    }
    Ok(if report.is_success() { EXIT_OK } else { EXIT_FAILED })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

type Shared = Arc<Mutex<Option<PrepareProgress>>>;

fn latest(progress: &Shared) -> Option<PrepareProgress> {
    *progress.lock().unwrap_or_else(|e| e.into_inner())
}

/// The progress display: an indicatif bar on a terminal, plain lines otherwise.
struct Display {
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Display {
    fn start(total: Option<u64>, interval: Duration, progress: Shared, started: Instant) -> Display {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(t) => indicatif::ProgressBar::new(t),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            let template = if total.is_some() {
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, ETA {eta}) {msg}"
            } else {
                "{spinner} [{elapsed_precise}] {pos} done ({per_sec}) {msg}"
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            let draw = move |bar: &indicatif::ProgressBar, p: Option<PrepareProgress>| {
                if let Some(p) = p {
                    bar.set_position(p.done as u64);
                    bar.set_message(format!(
                        "{} accepted, {} failed, {} in flight (limit {})",
                        p.accepted, p.failed, p.in_flight, p.concurrency
                    ));
                }
            };
            Some(tokio::spawn(async move {
                loop {
                    draw(&bar, latest(&progress));
                    bar.tick();
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
                draw(&bar, latest(&progress));
                bar.finish();
            }))
        } else if !interval.is_zero() {
            Some(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = tokio::time::sleep(interval) => {}
                    }
                    err_line(&plain_line(latest(&progress), total, started.elapsed()));
                }
            }))
        } else {
            None
        };
        Display { stop, task }
    }

    async fn finish(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

fn plain_line(p: Option<PrepareProgress>, total: Option<u64>, elapsed: Duration) -> String {
    let p = p.unwrap_or(PrepareProgress {
        total: None,
        read: 0,
        done: 0,
        accepted: 0,
        failed: 0,
        skipped: 0,
        in_flight: 0,
        concurrency: 0,
        rate: None,
        throttled: 0,
        requests: 0,
        elapsed,
    });
    let secs = elapsed.as_secs_f64();
    let sent = (p.accepted + p.failed) as f64;
    let rate = if secs > 0.0 { sent / secs } else { 0.0 };
    let done = p.done as u64;
    let mut line = match total {
        Some(t) if t > 0 => format!(
            "preload: {done} of {t} done ({:.0}%): {} accepted, {} failed, {} skipped; {rate:.0}/s",
            100.0 * done as f64 / t as f64,
            p.accepted,
            p.failed,
            p.skipped
        ),
        _ => format!(
            "preload: {done} done: {} accepted, {} failed, {} skipped; {rate:.0}/s",
            p.accepted, p.failed, p.skipped
        ),
    };
    if let Some(t) = total {
        if rate > 0.0 && t > done {
            line.push_str(&format!(", ETA {:.0} s", (t - done) as f64 / rate));
        }
    }
    if p.throttled > 0 {
        line.push_str(&format!(", {} throttled", p.throttled));
    }
    line
}
