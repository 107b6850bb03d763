//! The async bridge: the tokio runtime every call runs on, how a call becomes a Promise, and how
//! a call is cancelled.
//!
//! **The runtime.** One multi-threaded tokio runtime per process, shared by the main thread and
//! every `worker_threads` worker that loads the module. napi-rs owns its lifecycle: it is built
//! when the first Node environment registers the module (we hand napi-rs our configured runtime
//! in [`init`]), and shut down when the last environment unloads (process exit, or the last
//! worker ending after the main thread). Its threads are not libuv handles, so nothing on them
//! (idle pooled connections, a running `MockServer`) keeps Node's event loop alive: a script
//! that has finished its calls exits by itself. Only a call still in flight holds the loop open,
//! through the threadsafe function napi-rs uses to settle its Promise. Node never forks a
//! process that has loaded us, so unlike the Python package there is no fork handling.
//!
//! **A call.** [`spawn_call`] registers the call's id *synchronously*, on the JavaScript thread,
//! before its future is spawned, so a `cancel(id)` that follows immediately (an `AbortSignal`
//! aborted in the same tick) always finds it. The future races the call against its stop
//! channel; losing the race drops the call's future, which drops the HTTP request and closes its
//! connection, and no retry can follow. The Promise always *resolves* with an [`Outcome`]: a
//! value, or an [`ErrorInfo`](crate::error::ErrorInfo) the JavaScript layer turns into the
//! matching `Error` subclass. A panic in the call is caught and becomes an internal error:
//! it never unwinds into Node.
//!
//! **Why our own registry rather than napi's `AbortSignal`:** napi-rs ties `AbortSignal` to
//! libuv `AsyncTask`s, not to futures; and `close()` must cancel every call of a client at once,
//! which needs the per-client list of calls in flight anyway.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::FutureExt;
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use tokio::sync::oneshot;

use crate::error::{self, Outcome};

/// Builds the runtime napi-rs runs every future on (see the module docs). Runs once, when the
/// shared library is loaded.
#[napi_derive::module_init]
fn init() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static THREAD: AtomicUsize = AtomicUsize::new(0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name_fn(|| format!("partly-node-{}", THREAD.fetch_add(1, Ordering::Relaxed)))
        .build();
    // Should building it fail (no threads left), napi-rs builds its default runtime instead.
    if let Ok(runtime) = runtime {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}

/// Why a call was stopped before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Its `AbortSignal` fired.
    Aborted,
    /// Its client was closed (before or while it ran).
    Closed,
}

impl Stop {
    fn outcome(self) -> Outcome {
        match self {
            Stop::Aborted => Outcome::error(error::aborted("the call was aborted")),
            Stop::Closed => Outcome::error(error::aborted(
                "the call was aborted: its client was closed",
            )),
        }
    }
}

#[derive(Default)]
struct Calls {
    closed: bool,
    in_flight: HashMap<u32, oneshot::Sender<Stop>>,
}

/// The calls of one client that are in flight, by the id the JavaScript layer gave them.
#[derive(Default)]
pub(crate) struct CallRegistry {
    calls: Mutex<Calls>,
}

impl CallRegistry {
    fn lock(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, id: u32) -> Result<oneshot::Receiver<Stop>, Outcome> {
        let mut calls = self.lock();
        if calls.closed {
            // As in the Python package: a call on a closed client is a usage error, and nothing
            // is sent.
            return Err(Outcome::error(error::plain_validation(
                "the client is closed; create a new Client",
            )));
        }
        if calls.in_flight.contains_key(&id) {
            return Err(Outcome::error(error::internal(&format!(
                "call id {id} is already in flight"
            ))));
        }
        let (tx, rx) = oneshot::channel();
        calls.in_flight.insert(id, tx);
        Ok(rx)
    }

    fn finish(&self, id: u32) {
        self.lock().in_flight.remove(&id);
    }

    /// Stops one call; `false` when it had already finished.
    pub(crate) fn cancel(&self, id: u32) -> bool {
        let sender = self.lock().in_flight.remove(&id);
        sender.is_some_and(|tx| tx.send(Stop::Aborted).is_ok())
    }

    /// Refuses new calls and stops every call in flight; returns how many were stopped.
    pub(crate) fn close(&self) -> usize {
        let stopped: Vec<_> = {
            let mut calls = self.lock();
            calls.closed = true;
            calls.in_flight.drain().map(|(_, tx)| tx).collect()
        };
        stopped
            .into_iter()
            .map(|tx| tx.send(Stop::Closed))
            .filter(Result::is_ok)
            .count()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.lock().in_flight.len()
    }
}

/// Removes a call from the registry however its future ends (done, stopped or dropped).
struct Registered {
    registry: Arc<CallRegistry>,
    id: u32,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.finish(self.id);
    }
}

/// Runs `call` as call `id` of `registry` and returns its Promise (see the module docs).
pub(crate) fn spawn_call<'env, F>(
    env: &'env Env,
    registry: &Arc<CallRegistry>,
    id: u32,
    call: F,
) -> napi::Result<PromiseRaw<'env, Outcome>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let registration = registry.register(id).map(|stop| {
        (
            stop,
            Registered {
                registry: Arc::clone(registry),
                id,
            },
        )
    });
    env.spawn_future(async move {
        let (stop, _registered) = match registration {
            Ok(r) => r,
            Err(refused) => return Ok(refused),
        };
        let call = AssertUnwindSafe(call).catch_unwind();
        tokio::select! {
            // A dropped sender means the registry forgot the call: treat it as closed.
            stopped = stop => Ok(stopped.unwrap_or(Stop::Closed).outcome()),
            done = call => Ok(done.unwrap_or_else(|panic| Outcome::error(error::panicked(panic)))),
        }
    })
}

/// Runs a future that is not a cancellable call (the mock server's start and stop), with the
/// same panic containment.
pub(crate) fn spawn_task<'env, F>(
    env: &'env Env,
    task: F,
) -> napi::Result<PromiseRaw<'env, Outcome>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    env.spawn_future(async move {
        Ok(AssertUnwindSafe(task)
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Outcome::error(error::panicked(panic))))
    })
}

/// Runs synchronous native code with panic containment: a panic becomes an internal error.
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> Result<T, Outcome> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|panic| Outcome::error(error::panicked(panic)))
}
