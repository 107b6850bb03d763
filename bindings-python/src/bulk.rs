//! `prepare_all` from Python: the Python iterable is pulled on the calling thread, with the
//! GIL, in chunks, only when the core's driver asks for more (`partly::bulk::demand_feed`), so
//! a generator of any length is never materialised. Everything else (batching, limits, 429s,
//! deadline, checkpoint) is the core's; this file only translates.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use partly::bulk::demand_feed;
use partly::{BulkItem, InputError, PrepareAllOptions, PrepareBatch, PrepareProgress, VehicleIdentifier};

use crate::error;
use crate::models;
use crate::runtime;

/// Items pulled from the Python iterator per demand.
const CHUNK: usize = 1000;

/// What the run hands to the waiting thread.
enum BulkEvent {
    Progress(PrepareProgress),
    Batch(PrepareBatch),
    /// The driver wants the next chunk of the input.
    Pull,
}

/// One Python item as a bulk item: an identifier, or why it is not one (reported at its index).
fn to_item(obj: &Bound<'_, PyAny>) -> BulkItem {
    let given = || obj.repr().map(|r| r.to_string()).unwrap_or_else(|_| models::type_name(obj));
    match models::to_json(obj, "identifier") {
        Ok(json) => match VehicleIdentifier::from_json(json) {
            Ok(id) => BulkItem::Identifier(id),
            Err(e) => BulkItem::Invalid(InputError::new(given(), e.message())),
        },
        Err(e) => BulkItem::Invalid(InputError::new(given(), e.value(obj.py()).to_string())),
    }
}

/// The iterator of `identifiers`, refusing what is surely a mistake (one string, a dict).
fn iterator<'py>(identifiers: &Bound<'py, PyAny>) -> PyResult<Bound<'py, pyo3::types::PyIterator>> {
    let py = identifiers.py();
    let wrong = identifiers.is_instance_of::<PyString>()
        || identifiers.is_instance_of::<PyBytes>()
        || identifiers.is_instance_of::<PyDict>();
    let it = if wrong { None } else { identifiers.try_iter().ok() };
    it.ok_or_else(|| {
        let hint = if identifiers.is_instance_of::<PyString>() { " (for one vehicle, give a list of one)" } else { "" };
        error::validation(
            py,
            format!(
                "identifiers must be an iterable (a list, a generator) of vehicle identifiers (chassis-number strings or dicts such as {{\"plate\": \"ABC123\", \"region\": \"NZ\"}}), got {}{hint}",
                models::type_name(identifiers)
            ),
        )
    })
}

/// Runs `prepare_all` blocking (the GIL released while waiting): pulls `identifiers` on this
/// thread as the core asks, calls `on_progress(PrepareProgress)` and `on_batch(dict)` here. An
/// exception from the iterator or a callback stops the run and propagates.
pub fn prepare_all<'py>(
    py: Python<'py>,
    client: partly::Client,
    identifiers: &Bound<'py, PyAny>,
    mut options: PrepareAllOptions,
    on_progress: Option<Bound<'py, PyAny>>,
    on_batch: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let it = iterator(identifiers)?;
    let total = identifiers.len().ok();
    let feeder: std::cell::RefCell<Option<partly::bulk::Feeder>> = std::cell::RefCell::new(None);
    let with_progress = on_progress.is_some();
    let with_batches = on_batch.is_some();
    let mut ended = false;
    let report = runtime::block_on_with_events(
        py,
        |events| {
            let events = Arc::new(events);
            if with_progress {
                let e = Arc::clone(&events);
                options.on_progress = Some(Arc::new(move |p| e.send(BulkEvent::Progress(p))));
            }
            if with_batches {
                let e = Arc::clone(&events);
                options.on_batch = Some(Arc::new(move |b: &PrepareBatch| e.send(BulkEvent::Batch(b.clone()))));
            }
            let (f, stream) = demand_feed(CHUNK / 2, move || events.send(BulkEvent::Pull));
            *feeder.borrow_mut() = Some(f);
            async move { client.tier1().prepare_stream_sized(stream, total, options).await }
        },
        |py, event| match event {
            BulkEvent::Pull => {
                let feeder = feeder.borrow();
                let Some(feeder) = feeder.as_ref().filter(|_| !ended) else { return Ok(()) };
                let mut chunk = Vec::with_capacity(CHUNK);
                for item in it.clone().take(CHUNK) {
                    chunk.push(to_item(&item?));
                }
                if chunk.len() < CHUNK {
                    ended = true;
                    if !chunk.is_empty() {
                        feeder.push(chunk);
                    }
                    feeder.end();
                } else {
                    feeder.push(chunk);
                }
                Ok(())
            }
            BulkEvent::Progress(p) => match &on_progress {
                Some(cb) => cb.call1((models::progress_to_py(py, &p)?,)).map(drop),
                None => Ok(()),
            },
            BulkEvent::Batch(b) => match &on_batch {
                Some(cb) => cb.call1((models::batch_to_py(py, &b)?,)).map(drop),
                None => Ok(()),
            },
        },
    )?;
    match report {
        Ok(report) => Ok(models::report_to_py(py, &report)?.into_any()),
        Err(e) => Err(error::to_pyerr(py, &e)),
    }
}
