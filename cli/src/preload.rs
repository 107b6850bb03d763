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
use partly::serde_json::{self, json, Value};
use partly::{PrepareAllOptions, VehicleIdentifier};
use tokio::sync::mpsc;

use crate::{err_line, out_line, Connection, Failure, EXIT_FAILED, EXIT_OK};

/// Identifiers handed to one `prepare_all` run; the checkpoint is saved after each.
const CHUNK: usize = 1_000;
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
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = partly::config::defaults::PREPARE_CONCURRENCY)]
    concurrency: usize,
    /// Without a terminal: seconds between two progress lines on stderr (0: none).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    progress_interval: f64,
}

/// One identifier read from the input.
struct Item {
    /// The record's number in the input (0-based; blank lines count, a CSV header does not):
    /// what the checkpoint records.
    index: u64,
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
    let mut index = 0u64;
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
                if tx.blocking_send(Msg::Item(Item { index, line, id, raw })).is_err() {
                    return;
                }
                index += 1;
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
                let this = index;
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
                if tx.blocking_send(Msg::Item(Item { index: this, line, id, raw })).is_err() {
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

/// The accepted records, as ranges of record numbers, saved atomically (write, then rename).
struct Checkpoint {
    path: PathBuf,
    input: String,
    /// start -> end (exclusive), disjoint and not touching.
    ranges: BTreeMap<u64, u64>,
}

impl Checkpoint {
    fn load(path: &Path, input: &str) -> Result<Checkpoint, Failure> {
        let mut cp = Checkpoint { path: path.to_path_buf(), input: input.to_string(), ranges: BTreeMap::new() };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cp),
            Err(e) => {
                return Err(Failure::Input(format!("cannot read the checkpoint {}: {}", path.display(), io_why(&e))))
            }
        };
        let bad = || {
            Failure::Input(format!(
                "{} is not a checkpoint of partly preload; give another --checkpoint FILE",
                path.display()
            ))
        };
        let value: Value = serde_json::from_str(&text).map_err(|_| bad())?;
        if value.get("partly_preload_checkpoint") != Some(&json!(1)) {
            return Err(bad());
        }
        let written_for = value.get("input").and_then(Value::as_str).unwrap_or("");
        if written_for != input {
            return Err(Failure::Input(format!(
                "the checkpoint {} was written for {written_for:?}, not {input:?}; give another --checkpoint FILE \
                 (or remove it to start over)",
                path.display()
            )));
        }
        for pair in value.get("accepted").and_then(Value::as_array).ok_or_else(bad)? {
            let (Some(s), Some(e)) = (pair.get(0).and_then(Value::as_u64), pair.get(1).and_then(Value::as_u64)) else {
                return Err(bad());
            };
            for i in s..e {
                cp.add(i);
            }
        }
        Ok(cp)
    }

    fn contains(&self, index: u64) -> bool {
        self.ranges.range(..=index).next_back().is_some_and(|(_, &end)| index < end)
    }

    fn add(&mut self, index: u64) {
        if self.contains(index) {
            return;
        }
        let mut start = index;
        let mut end = index + 1;
        if let Some((&s, &e)) = self.ranges.range(..index).next_back() {
            if e == index {
                start = s;
                self.ranges.remove(&s);
            }
        }
        if let Some(e) = self.ranges.remove(&end) {
            end = e;
        }
        self.ranges.insert(start, end);
    }

    fn accepted(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    fn save(&self) -> std::io::Result<()> {
        let ranges: Vec<[u64; 2]> = self.ranges.iter().map(|(&s, &e)| [s, e]).collect();
        let body = json!({"partly_preload_checkpoint": 1, "input": self.input, "accepted": ranges});
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, format!("{body}\n"))?;
        std::fs::rename(&tmp, &self.path)
    }
}

/// The failures file, created at the first failure.
struct Failures {
    path: PathBuf,
    writer: Option<csv::Writer<File>>,
}

impl Failures {
    fn write(&mut self, item_line: u64, raw: &Raw, class: &str, why: &str) -> Result<(), Failure> {
        if self.writer.is_none() {
            let mut w = csv::Writer::from_path(&self.path).map_err(|e| {
                Failure::Input(format!(
                    "cannot write the failures to {}: {e}; give another --failures FILE",
                    self.path.display()
                ))
            })?;
            let _ = w.write_record(["line", "chassis_number", "plate", "region", "error_class", "error"]);
            self.writer = Some(w);
        }
        if let Some(w) = &mut self.writer {
            let line = item_line.to_string();
            w.write_record([line.as_str(), &raw.chassis_number, &raw.plate, &raw.region, class, why])
                .map_err(|e| Failure::Input(format!("cannot write the failures to {}: {e}", self.path.display())))?;
        }
        Ok(())
    }

    fn finish(&mut self) {
        if let Some(w) = &mut self.writer {
            let _ = w.flush();
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    read: u64,
    accepted: u64,
    failed: u64,
    skipped: u64,
    /// Of the `prepare_all` run in progress.
    chunk_accepted: u64,
    chunk_failed: u64,
    requests: u64,
}

impl Counts {
    fn accepted(&self) -> u64 {
        self.accepted + self.chunk_accepted
    }
    fn failed(&self) -> u64 {
        self.failed + self.chunk_failed
    }
    fn done(&self) -> u64 {
        self.accepted() + self.failed() + self.skipped
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

pub(crate) async fn run(args: PreloadArgs, conn: &Connection, json: bool) -> Result<i32, Failure> {
    let interval = partly::config::duration_from_secs(args.progress_interval, "--progress-interval").or_else(|e| {
        if args.progress_interval == 0.0 {
            Ok(Duration::ZERO)
        } else {
            Err(e)
        }
    })?;
    let client = crate::client(conn)?;
    let source = open(&args)?;
    let name = source.name.clone();
    // The header is read here, so an unknown column stops the run before anything is sent.
    let (tx, mut rx) = mpsc::channel::<Msg>(READ_AHEAD);
    let mut total = source.total;
    if is_csv(&args) {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(source.reader);
        let headers =
            reader.headers().map_err(|e| Failure::Input(format!("{name}: cannot read the CSV header: {e}")))?.clone();
        let format = columns(&headers, &args, &name)?;
        total = total.map(|t| t.saturating_sub(1));
        let n = name.clone();
        std::thread::Builder::new()
            .name("partly-preload-input".into())
            .spawn(move || read_csv(reader, format, n, tx))
            .map_err(|e| Failure::Input(format!("cannot start the reader: {e}")))?;
    } else {
        let n = name.clone();
        let reader = source.reader;
        std::thread::Builder::new()
            .name("partly-preload-input".into())
            .spawn(move || read_lines(reader, n, tx))
            .map_err(|e| Failure::Input(format!("cannot start the reader: {e}")))?;
    }

    let input_key = if args.input == "-" { "-".to_string() } else { args.input.clone() };
    let mut checkpoint = match &args.checkpoint {
        Some(path) => Some(Checkpoint::load(path, &input_key)?),
        None => None,
    };
    if let Some(cp) = &checkpoint {
        if cp.accepted() > 0 {
            err_line(&format!(
                "partly preload: resuming from {}: {} identifiers already accepted are skipped",
                cp.path.display(),
                cp.accepted()
            ));
        }
    }
    let failures_path = args.failures.clone().unwrap_or_else(|| default_failures_path(&args.input));
    if args.input != "-" && same_file(&failures_path, Path::new(&args.input)) {
        return Err(Failure::Input(format!(
            "the failures file {} is the input; give another --failures FILE",
            failures_path.display()
        )));
    }
    let mut failures = Failures { path: failures_path, writer: None };

    let counts = Arc::new(Mutex::new(Counts::default()));
    let started = Instant::now();
    let display = Display::start(total, interval, counts.clone(), started);

    let mut options =
        PrepareAllOptions { batch_size: args.batch_size, concurrency: args.concurrency, ..Default::default() };
    let progress_counts = counts.clone();
    options.on_progress = Some(Arc::new(move |p: partly::PrepareProgress| {
        let mut c = progress_counts.lock().unwrap_or_else(|e| e.into_inner());
        c.chunk_accepted = p.accepted as u64;
        c.chunk_failed = p.failed as u64;
    }));

    let mut fatal: Option<String> = None;
    let mut ids: Vec<VehicleIdentifier> = Vec::with_capacity(CHUNK);
    let mut meta: Vec<(u64, u64, Raw)> = Vec::with_capacity(CHUNK);
    let mut finished = false;
    let mut first = true;
    while !finished {
        // Fill a chunk.
        while ids.len() < CHUNK {
            match rx.recv().await {
                Some(Msg::Item(item)) => {
                    let skip = checkpoint.as_ref().is_some_and(|cp| cp.contains(item.index));
                    let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
                    c.read += 1;
                    if skip {
                        c.skipped += 1;
                        continue;
                    }
                    match item.id {
                        Ok(id) => {
                            ids.push(id);
                            meta.push((item.index, item.line, item.raw));
                        }
                        Err(why) => {
                            c.failed += 1;
                            drop(c);
                            if first {
                                remove_stale(&failures.path);
                                first = false;
                            }
                            failures.write(
                                item.line,
                                &item.raw,
                                "ValidationError",
                                &format!("line {}: {why}", item.line),
                            )?;
                        }
                    }
                }
                Some(Msg::Fatal(why)) => {
                    fatal = Some(why);
                    finished = true;
                    break;
                }
                None => {
                    finished = true;
                    break;
                }
            }
        }
        if ids.is_empty() {
            continue;
        }
        if first {
            remove_stale(&failures.path);
            first = false;
        }
        let chunk = std::mem::replace(&mut ids, Vec::with_capacity(CHUNK));
        let chunk_meta = std::mem::replace(&mut meta, Vec::with_capacity(CHUNK));
        let report = client.tier1().prepare_all(chunk, options.clone()).await?;
        for batch in &report.batches {
            for (i, id) in batch.identifiers.iter().enumerate() {
                let Some((index, line, raw)) = chunk_meta.get(batch.offset + i) else { continue };
                match &batch.error {
                    None => {
                        if let Some(cp) = &mut checkpoint {
                            cp.add(*index);
                        }
                    }
                    Some(e) => {
                        let raw = if raw.chassis_number.is_empty() && raw.plate.is_empty() {
                            Raw { chassis_number: id.to_json().to_string(), ..Raw::default() }
                        } else {
                            raw.clone()
                        };
                        failures.write(*line, &raw, e.kind().class_name(), &e.to_string())?;
                    }
                }
            }
        }
        {
            let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
            c.accepted += report.accepted as u64;
            c.failed += report.failed as u64;
            c.chunk_accepted = 0;
            c.chunk_failed = 0;
            c.requests += report.batches.len() as u64;
        }
        if let Some(cp) = &checkpoint {
            cp.save().map_err(|e| {
                Failure::Input(format!("cannot write the checkpoint {}: {}", cp.path.display(), io_why(&e)))
            })?;
        }
    }
    failures.finish();
    if let Some(cp) = &checkpoint {
        // Also when nothing was sent, so that the file exists after a first run.
        cp.save().map_err(|e| {
            Failure::Input(format!("cannot write the checkpoint {}: {}", cp.path.display(), io_why(&e)))
        })?;
    }
    let elapsed = started.elapsed();
    display.finish().await;

    let c = *counts.lock().unwrap_or_else(|e| e.into_inner());
    let failures_file = failures.writer.is_some().then(|| failures.path.display().to_string());
    if json {
        crate::emit(
            &json!({
                "input": name,
                "read": c.read,
                "accepted": c.accepted,
                "failed": c.failed,
                "skipped": c.skipped,
                "requests": c.requests,
                "elapsed_ms": (elapsed.as_secs_f64() * 1000.0).round(),
                "failures_file": failures_file,
                "checkpoint": args.checkpoint.as_ref().map(|p| p.display().to_string()),
                "input_error": fatal,
            }),
            true,
        );
    } else {
        let secs = elapsed.as_secs_f64();
        let sent = c.accepted + c.failed;
        let mut line = format!(
            "preloaded {name}: {} read, {} accepted, {} failed, {} skipped (already accepted) in {secs:.2} s",
            c.read, c.accepted, c.failed, c.skipped
        );
        if secs > 0.0 && sent > 0 {
            line.push_str(&format!(" ({:.0}/s)", sent as f64 / secs));
        }
        out_line(&line);
        if let Some(f) = &failures_file {
            out_line(&format!("failures: {f} (line, identifier, error; give it back to partly preload to retry them)"));
        }
    }
    if let Some(why) = fatal {
        return Err(Failure::Input(why));
    }
    Ok(if c.failed == 0 { EXIT_OK } else { EXIT_FAILED })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// An older failures file would list failures that this run retries: it is replaced.
fn remove_stale(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// The progress display: an indicatif bar on a terminal, plain lines otherwise.
struct Display {
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Display {
    fn start(total: Option<u64>, interval: Duration, counts: Arc<Mutex<Counts>>, started: Instant) -> Display {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let terminal = std::io::stderr().is_terminal();
        let task = if terminal {
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
            Some(tokio::spawn(async move {
                loop {
                    let c = *counts.lock().unwrap_or_else(|e| e.into_inner());
                    bar.set_position(c.done());
                    bar.set_message(format!("{} accepted, {} failed", c.accepted(), c.failed()));
                    bar.tick();
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
                let c = *counts.lock().unwrap_or_else(|e| e.into_inner());
                bar.set_position(c.done());
                bar.set_message(format!("{} accepted, {} failed", c.accepted(), c.failed()));
                bar.finish();
            }))
        } else if !interval.is_zero() {
            Some(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = tokio::time::sleep(interval) => {}
                    }
                    let c = *counts.lock().unwrap_or_else(|e| e.into_inner());
                    err_line(&plain_line(&c, total, started.elapsed()));
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

fn plain_line(c: &Counts, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let sent = c.accepted() + c.failed();
    let rate = if secs > 0.0 { sent as f64 / secs } else { 0.0 };
    let mut line = match total {
        Some(t) if t > 0 => format!(
            "preload: {} of {t} done ({:.0}%): {} accepted, {} failed, {} skipped; {rate:.0}/s",
            c.done(),
            100.0 * c.done() as f64 / t as f64,
            c.accepted(),
            c.failed(),
            c.skipped
        ),
        _ => format!(
            "preload: {} done: {} accepted, {} failed, {} skipped; {rate:.0}/s",
            c.done(),
            c.accepted(),
            c.failed(),
            c.skipped
        ),
    };
    if let Some(t) = total {
        if rate > 0.0 && t > c.done() {
            line.push_str(&format!(", ETA {:.0} s", (t - c.done()) as f64 / rate));
        }
    }
    line
}
