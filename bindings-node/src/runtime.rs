//! The async bridge: the tokio runtime every call runs on, how a call's outcome reaches
//! JavaScript, and how a call is cancelled.
//!
//! **The runtime.** One multi-threaded tokio runtime per process, shared by the main thread and
//! every `worker_threads` worker that loads the module, built at the first call that needs it
//! ([`runtime`]): loading the module (`require('partly')`) and building a client start no
//! thread. It lives as long as the process. Its threads are not libuv handles, so nothing on
//! them (idle pooled connections, a running `MockServer`) keeps Node's event loop alive: a
//! script that has finished its calls exits by itself. Only a call still in flight holds the
//! loop open, through the environment's completion channel (below). Node never forks a process
//! that has loaded us (`cluster` and `child_process` start new processes, which load the module
//! afresh), so unlike the Python package there is no fork handling.
//!
//! **The completion channel.** Each Node environment (the main thread, each worker; in fact
//! each load of `index.js`) has one [`Channel`], made by [`create_completions`] with the
//! JavaScript layer's `dispatch(id, json, outcome)` function: one threadsafe function and a
//! queue. A call's native method spawns its future and returns at once; the JavaScript layer
//! keeps the call's `resolve`/`reject` in a `Map` by call id. A finished call pushes its outcome
//! to the queue; the first push after a drain wakes the JavaScript thread, once the tokio worker
//! has run the tasks that are ready (a yield), so that one wake-up delivers every call they
//! finished; the drain calls `dispatch` for each. (napi-rs's own future-to-Promise bridge made a
//! threadsafe function, a uv_async handle and a wake-up per call, and two tasks.) The threadsafe
//! function is unref'd while no call is in flight and ref'd while some are: the count of calls
//! spawned and not yet delivered lives on the JavaScript thread (incremented by [`spawn_call`],
//! decremented by the drain), so both transitions happen there. When the environment goes away
//! Node finalizes the threadsafe function; the channel is then closed and later outcomes are
//! dropped.
//!
//! **A call.** [`spawn_call`] registers the call's id *synchronously*, on the JavaScript thread,
//! before its future is spawned, so a `cancel(id)` that follows immediately (an `AbortSignal`
//! aborted in the same tick) always finds it. The future races the call against its stop
//! channel; losing the race drops the call's future, which drops the HTTP request and closes its
//! connection, and no retry can follow. Every call delivers exactly one [`Outcome`]: a value, or
//! an [`ErrorInfo`](crate::error::ErrorInfo) the JavaScript layer turns into the matching
//! `Error` subclass (a successful API call delivers its JSON text alone, for `JSON.parse`). A
//! panic in the call is caught and becomes an internal error: it never unwinds into Node. The
//! registry forgets a call when its outcome is delivered (or when it is cancelled), on the
//! JavaScript thread, so tokio threads never take its lock.
//!
//! **Why our own registry rather than napi's `AbortSignal`:** napi-rs ties `AbortSignal` to
//! libuv `AsyncTask`s, not to futures; and `close()` must cancel every call of a client at once,
//! which needs the per-client list of calls in flight anyway.

use std::collections::HashMap;
use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use futures_util::FutureExt;
use napi::bindgen_prelude::{Function, PromiseRaw, ToNapiValue};
use napi::{sys, Env, JsValue};
use tokio::sync::oneshot;

use crate::error::{self, ErrorInfo, Outcome};

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
static RUNTIME_INIT: Mutex<()> = Mutex::new(());

/// The runtime every call runs on, built at the first call (see the module docs).
pub(crate) fn runtime() -> napi::Result<&'static tokio::runtime::Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let _one_at_a_time = RUNTIME_INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    static THREAD: AtomicU32 = AtomicU32::new(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name_fn(|| format!("partly-node-{}", THREAD.fetch_add(1, Ordering::Relaxed)))
        .build()
        .map_err(|e| napi::Error::from_reason(format!("partly could not start its I/O threads: {e}")))?;
    Ok(RUNTIME.get_or_init(|| rt))
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
            Stop::Closed => Outcome::error(error::aborted("the call was aborted: its client was closed")),
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
    /// The level the client logs its calls' records at (`off`: none are kept).
    log_level: Option<partly::logging::LogLevel>,
}

impl CallRegistry {
    /// A registry whose calls keep their log records at `level`.
    pub(crate) fn with_log_level(level: partly::logging::LogLevel) -> Self {
        let logs = level != partly::logging::LogLevel::Off;
        if logs {
            crate::logging::install();
        }
        CallRegistry { calls: Mutex::default(), log_level: logs.then_some(level) }
    }

    fn lock(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, id: u32) -> Result<oneshot::Receiver<Stop>, Outcome> {
        let mut calls = self.lock();
        if calls.closed {
            // As in the Python package: a call on a closed client is a usage error, and nothing
            // is sent.
            return Err(Outcome::error(error::plain_validation("the client is closed; create a new Client")));
        }
        if calls.in_flight.contains_key(&id) {
            return Err(Outcome::error(error::internal(&format!("call id {id} is already in flight"))));
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

    /// Refuses new calls; with `abort`, also stops every call in flight (otherwise they
    /// finish). Returns how many were stopped.
    pub(crate) fn close(&self, abort: bool) -> usize {
        let stopped: Vec<_> = {
            let mut calls = self.lock();
            calls.closed = true;
            if !abort {
                return 0;
            }
            calls.in_flight.drain().map(|(_, tx)| tx).collect()
        };
        stopped.into_iter().map(|tx| tx.send(Stop::Closed)).filter(Result::is_ok).count()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.lock().in_flight.len()
    }
}

/// One finished call, queued for the JavaScript thread.
struct Completion {
    id: u32,
    registry: Arc<CallRegistry>,
    outcome: Outcome,
    /// The call's log records, for its client's `logger` (empty when it does not log).
    logs: Vec<crate::logging::Line>,
}

struct Queue {
    /// Whether Node finalized the threadsafe function (the environment is going away):
    /// completions are then dropped.
    closed: bool,
    items: Vec<Completion>,
    /// Whether a wake-up is due or queued and has not started draining yet.
    scheduled: bool,
}

#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: a threadsafe function may be called from any thread; we only call it while Node has
// not finalized it (checked under `Channel::tsfn`'s lock, which the finalizer takes to write).
unsafe impl Send for Tsfn {}
unsafe impl Sync for Tsfn {}

/// The completion channel of one Node environment (see the module docs): one threadsafe
/// function, unref'd while no call is in flight, and a queue of finished calls it drains on the
/// JavaScript thread, many per wake-up.
pub(crate) struct Channel {
    queue: Mutex<Queue>,
    /// The threadsafe function; `None` once finalized. Read-locked to call it, so that tokio
    /// threads never wait on each other, nor on the drain.
    tsfn: RwLock<Option<Tsfn>>,
    /// The same, for the JavaScript thread (ref/unref), which the finalizer also runs on.
    tsfn_js: std::sync::OnceLock<Tsfn>,
    /// Calls spawned and not yet delivered; touched only on the JavaScript thread.
    pending: AtomicU32,
}

impl Channel {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a finished call (any thread); `true` when the caller must [`wake`](Self::wake)
    /// the JavaScript thread (no wake-up is due yet).
    fn push(&self, completion: Completion) -> bool {
        let mut q = self.lock();
        if q.closed {
            return false;
        }
        q.items.push(completion);
        !std::mem::replace(&mut q.scheduled, true)
    }

    /// Wakes the JavaScript thread to drain the queue.
    fn wake(&self) {
        let guard = self.tsfn.read().unwrap_or_else(|p| p.into_inner());
        let Some(tsfn) = *guard else { return };
        // SAFETY: not finalized (checked under the read lock, which the finalizer waits for).
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                tsfn.0,
                std::ptr::null_mut(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        drop(guard);
        if status != sys::Status::napi_ok {
            // Closing: nothing will ever drain the queue.
            let dropped = std::mem::take(&mut self.lock().items);
            drop(dropped);
        }
    }

    /// A call was spawned (JavaScript thread): keep the event loop alive until it is delivered.
    fn started(&self, env: sys::napi_env) {
        if self.pending.fetch_add(1, Ordering::Relaxed) == 0 {
            if let Some(tsfn) = self.tsfn_js.get() {
                // SAFETY: on the JavaScript thread of the environment that owns it, which is
                // also the thread that would finalize it.
                unsafe { sys::napi_ref_threadsafe_function(env, tsfn.0) };
            }
        }
    }
}

/// What the JavaScript layer holds: the completion channel of its environment.
#[napi_derive::napi]
pub struct Completions {
    channel: Arc<Channel>,
}

impl Completions {
    pub(crate) fn channel(&self) -> Arc<Channel> {
        Arc::clone(&self.channel)
    }
}

/// Creates the completion channel of this environment: `dispatch(id, json, outcome)` is called
/// on the JavaScript thread for every finished call, with the result's JSON text, or else an
/// [`Outcome`].
#[napi_derive::napi(catch_unwind)]
pub fn create_completions(env: &Env, dispatch: Function<'_>) -> napi::Result<Completions> {
    let channel = Arc::new(Channel {
        queue: Mutex::new(Queue { closed: false, items: Vec::new(), scheduled: false }),
        tsfn: RwLock::new(None),
        tsfn_js: std::sync::OnceLock::new(),
        pending: AtomicU32::new(0),
    });
    let raw_env = env.raw();
    let name = env.create_string("partly")?;
    let finalize_data = Arc::into_raw(Arc::clone(&channel)) as *mut c_void;
    let mut tsfn = std::ptr::null_mut();
    // SAFETY: plain Node-API calls on the JavaScript thread; `finalize_data` is the context
    // pointer and owns one count of the Arc, released by `finalize`.
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            raw_env,
            dispatch.raw(),
            std::ptr::null_mut(),
            name.raw(),
            0,
            1,
            finalize_data,
            Some(finalize),
            finalize_data,
            Some(drain),
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: not handed to Node.
        drop(unsafe { Arc::from_raw(finalize_data as *const Channel) });
        return Err(napi::Error::from_reason("cannot create the completion channel"));
    }
    // SAFETY: as above. Weak until a call is in flight.
    unsafe { sys::napi_unref_threadsafe_function(raw_env, tsfn) };
    *channel.tsfn.write().unwrap_or_else(|p| p.into_inner()) = Some(Tsfn(tsfn));
    let _ = channel.tsfn_js.set(Tsfn(tsfn));
    Ok(Completions { channel })
}

unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `data` is the Arc count handed to Node in `create_completions`.
        let channel = unsafe { Arc::from_raw(data as *const Channel) };
        *channel.tsfn.write().unwrap_or_else(|p| p.into_inner()) = None;
        let dropped = {
            let mut q = channel.lock();
            q.closed = true;
            std::mem::take(&mut q.items)
        };
        drop(dropped);
    });
}

/// Runs on the JavaScript thread: delivers every queued completion to `dispatch`.
unsafe extern "C" fn drain(env: sys::napi_env, dispatch: sys::napi_value, context: *mut c_void, _data: *mut c_void) {
    if env.is_null() || context.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the context outlives every call of `drain` (released by `finalize`).
        let channel = unsafe { &*(context as *const Channel) };
        let items = {
            let mut q = channel.lock();
            q.scheduled = false;
            std::mem::take(&mut q.items)
        };
        let tsfn = channel.tsfn_js.get();
        let delivered = items.len() as u32;
        let mut undefined = std::ptr::null_mut();
        // SAFETY: plain Node-API calls on the JavaScript thread.
        unsafe { sys::napi_get_undefined(env, &mut undefined) };
        for c in items {
            c.registry.finish(c.id);
            // SAFETY: as above; a failed conversion delivers `undefined`, which the JavaScript
            // layer turns into an internal error.
            unsafe {
                let mut args = [undefined; 4];
                sys::napi_create_uint32(env, c.id, &mut args[0]);
                if !c.logs.is_empty() {
                    let logs: Vec<Vec<String>> = c.logs.into_iter().map(|(level, line)| vec![level, line]).collect();
                    if let Ok(v) = Vec::<Vec<String>>::to_napi_value(env, logs) {
                        args[3] = v;
                    }
                }
                let outcome = c.outcome;
                if outcome.error.is_none() && outcome.value.is_none() && outcome.report.is_none() {
                    if let Some(json) = outcome.json {
                        if let Ok(v) = String::to_napi_value(env, json) {
                            args[1] = v;
                        }
                    }
                } else if let Ok(v) = Outcome::to_napi_value(env, outcome) {
                    args[2] = v;
                }
                let mut ignored = std::ptr::null_mut();
                let status = sys::napi_call_function(env, undefined, dispatch, 4, args.as_ptr(), &mut ignored);
                if status == sys::Status::napi_pending_exception {
                    // `dispatch` never throws; should it, report it rather than lose it.
                    let mut error = std::ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut error);
                    sys::napi_fatal_exception(env, error);
                }
            }
        }
        if delivered > 0 && channel.pending.fetch_sub(delivered, Ordering::Relaxed) == delivered {
            if let Some(tsfn) = tsfn {
                // SAFETY: on the JavaScript thread; nothing in flight, so let the process exit.
                unsafe { sys::napi_unref_threadsafe_function(env, tsfn.0) };
            }
        }
    }));
}

/// Runs `call` as call `id` of `registry`; its outcome is delivered through `channel` (see the
/// module docs).
pub(crate) fn spawn_call<F>(
    env: &Env,
    channel: &Arc<Channel>,
    registry: &Arc<CallRegistry>,
    id: u32,
    call: F,
) -> napi::Result<()>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let rt = runtime()?;
    let registration = registry.register(id);
    let channel_ = Arc::clone(channel);
    let registry_ = Arc::clone(registry);
    let log = registry.log_level.map(crate::logging::CallLog::new);
    let run = async move {
        let outcome = match registration {
            Err(refused) => refused,
            Ok(stop) => {
                let call = AssertUnwindSafe(call).catch_unwind();
                tokio::select! {
                    // A dropped sender means the registry forgot the call: treat it as closed.
                    stopped = stop => stopped.unwrap_or(Stop::Closed).outcome(),
                    done = call => done.unwrap_or_else(|panic| Outcome::error(error::panicked(panic))),
                }
            }
        };
        outcome
    };
    rt.spawn(async move {
        let (outcome, logs) = match log {
            Some(log) => {
                let outcome = crate::logging::CALL_LOG.scope(log.clone(), run).await;
                (outcome, log.take())
            }
            None => (run.await, Vec::new()),
        };
        let wake = channel_.push(Completion { id, registry: registry_, outcome, logs });
        if wake {
            // Wake the JavaScript thread once this worker has run the tasks that are ready, so
            // that one wake-up delivers every call they finish (tokio runs a yielded task
            // before its worker parks, and at least every few dozen tasks when busy).
            tokio::task::yield_now().await;
            channel_.wake();
        }
    });
    // After the spawn, which panics when the runtime is gone: only a spawned call holds the
    // event loop open. Its outcome cannot be drained before this returns (same thread).
    channel.started(env.raw());
    Ok(())
}

/// Runs a future that is not a cancellable call (the mock server's start and stop) on the
/// runtime, with the same panic containment (`on_panic` makes the value a panic settles with);
/// returns a Promise of its value.
pub(crate) fn spawn_task<'env, T, F>(
    env: &'env Env,
    task: F,
    on_panic: fn(ErrorInfo) -> T,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let rt = runtime()?;
    let (deferred, promise) = env.create_deferred()?;
    rt.spawn(async move {
        let value =
            AssertUnwindSafe(task).catch_unwind().await.unwrap_or_else(|panic| on_panic(error::panicked(panic)));
        deferred.resolve(move |_| Ok(value));
    });
    Ok(PromiseRaw::new(env.raw(), promise.raw()))
}

/// Runs synchronous native code with panic containment: a panic becomes an internal error.
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> Result<T, Outcome> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|panic| Outcome::error(error::panicked(panic)))
}
