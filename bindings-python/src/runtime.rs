//! The tokio runtime the package runs on, and the two bridges to it: a blocking wait that
//! releases the GIL and stays interruptible by Ctrl-C, and asyncio awaitables.
//!
//! **Fork.** tokio's worker threads do not survive `fork()`: a child that inherits the parent's
//! runtime would wait forever on threads that are not there. So the runtime is tagged with the
//! id of the process that built it, and the first use in a process with another id builds a new
//! one. The parent's runtime is leaked in the child, never dropped: dropping it would try to
//! join threads that do not exist, and anything it owns (sockets registered in the parent's
//! epoll instance, which the child shares) must not be touched from the child. Locks are
//! [`PidLock`]s: a lock held by a thread of the parent at the moment of the fork is taken over
//! by the child instead of deadlocking it. Clients do the same with their connection pool
//! (see `client.rs`).
//!
//! **Blocking calls** ([`block_on`]) spawn the future on the runtime, release the GIL, and wait
//! for the answer in slices of [`SIGNAL_POLL`]; between slices they take the GIL back and run
//! Python's signal handlers, so Ctrl-C raises `KeyboardInterrupt` at once and aborts the call.
//! The call's log records, progress events and answer travel in order through one wait channel
//! ([`Waiting`]); records do not wake the waiter, which logs them on its own thread when the
//! next event, the answer or the end of the slice wakes it (see [`route_log`]).
//!
//! **Async calls** ([`spawn_async`]) go through a batched completion bridge in which the
//! runtime's threads never take the GIL. Each event loop (per process) gets a [`LoopBridge`],
//! made on its first call and found again through a `WeakKeyDictionary` keyed by the loop (plus
//! a one-entry cache of the last one used): a queue of plain Rust outcomes, and a non-blocking
//! socket pair whose read end is registered once with `loop.add_reader(fd, bridge.drain)`.
//! A call creates its future (a `PartlyFuture`, an `asyncio.Future` whose `cancel()` aborts the
//! call) on the loop's thread, records it in the bridge's table and spawns the core's future on
//! the runtime. When it finishes, the runtime thread pushes the outcome to the queue and, only if
//! the queue was empty, has one byte written to the socket once the worker has run the other
//! tasks ready in that round (see [`Shared::push`]): answers arriving together cost one write
//! and one wake-up of the loop. `drain` runs on the loop: it empties the socket, takes the whole queue, converts each
//! outcome and sets it on its future unless that is done. Cancelling the future removes it from
//! the table and aborts the task, which drops its HTTP request. `prepare_all`'s progress reports
//! and the log records of async calls travel through the same queue (see [`route_log`]), so they
//! reach Python on the loop's thread, in order with the call's answer. A loop closed (and
//! collected) takes its bridge with it: the loop holds the only strong reference to its reader
//! callback, the dictionary holds the loop weakly. A forked child never reuses a bridge of its
//! parent (it makes its own, with its own socket pair). Loops without `add_reader` (Windows'
//! proactor loop) are woken with `call_soon_threadsafe` from the runtime thread instead, the one
//! case where that thread still enters Python (through the gate of `shutdown.rs`). The runtime
//! belongs to no event loop, so one client serves any number of `asyncio.run()` calls.
//!
//! **Exit.** The runtime's threads enter Python only to log records emitted outside any call's
//! task (and for the proactor fallback above), always through the gate of `shutdown.rs`, which an `atexit`
//! hook closes before the interpreter finalizes.

use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ffi::CStr;
use std::future::Future;
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::io::AsRawFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyWeakrefMethods, PyWeakrefReference};
use tokio::runtime::{Builder, Runtime};

use crate::models::Outcome;
use crate::shutdown;

/// How often a blocked call wakes up to run Python's signal handlers.
pub const SIGNAL_POLL: Duration = Duration::from_millis(50);

static RUNTIME: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());
static RUNTIME_PID: AtomicU32 = AtomicU32::new(0);
static INSTALL: PidLock = PidLock::new();

/// The id of this process (changes in a forked child).
///
/// Cached: `getpid()` is a system call, and every lock and every call asks. A `pthread_atfork`
/// handler clears the cache in a forked child, whose first question reads the new id.
pub fn pid() -> u32 {
    match PID.load(Ordering::Relaxed) {
        0 => read_pid(),
        cached => cached,
    }
}

static PID: AtomicU32 = AtomicU32::new(0);

#[cfg(unix)]
fn read_pid() -> u32 {
    static AT_FORK: std::sync::Once = std::sync::Once::new();
    extern "C" fn forget_pid_in_child() {
        PID.store(0, Ordering::Relaxed);
    }
    // Registered before anything is cached, so a fork after this point always clears it.
    // Should registration fail (out of memory), nothing is cached and every call asks.
    AT_FORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic (async-signal-safe).
        let registered = unsafe { libc::pthread_atfork(None, None, Some(forget_pid_in_child)) } == 0;
        AT_FORK_OK.store(registered, Ordering::Relaxed);
    });
    let me = std::process::id();
    if AT_FORK_OK.load(Ordering::Relaxed) {
        PID.store(me, Ordering::Relaxed);
    }
    me
}

#[cfg(unix)]
static AT_FORK_OK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(not(unix))]
fn read_pid() -> u32 {
    // No fork: the id never changes.
    let me = std::process::id();
    PID.store(me, Ordering::Relaxed);
    me
}

/// The runtime of this process, built on first use (and again, once, in a forked child).
pub fn runtime() -> std::io::Result<&'static Runtime> {
    let me = pid();
    if let Some(rt) = current(me) {
        return Ok(rt);
    }
    let _guard = INSTALL.lock();
    if let Some(rt) = current(me) {
        return Ok(rt);
    }
    let rt = Builder::new_multi_thread().enable_all().thread_name("partly-worker").build()?;
    // Leaked on purpose: a runtime lives as long as its process (see the module docs).
    let ptr = Box::into_raw(Box::new(rt));
    RUNTIME.store(ptr, Ordering::Release);
    RUNTIME_PID.store(me, Ordering::Release);
    // SAFETY: `ptr` comes from `Box::into_raw` and is never freed.
    Ok(unsafe { &*ptr })
}

fn current(me: u32) -> Option<&'static Runtime> {
    if RUNTIME_PID.load(Ordering::Acquire) != me {
        return None;
    }
    let ptr = RUNTIME.load(Ordering::Acquire);
    // SAFETY: a non-null pointer in RUNTIME comes from `Box::into_raw` and is never freed.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}

/// The runtime as a Python error when it cannot be started (out of threads or file handles).
pub fn runtime_or_err() -> PyResult<&'static Runtime> {
    runtime().map_err(|e| crate::error::internal(format!("could not start the SDK's I/O threads: {e}")))
}

/// A spin lock that records which process holds it. A lock found held by another process was
/// held by a thread of the parent when it forked; that thread does not exist here, so the
/// child takes the lock over.
pub struct PidLock(AtomicU32);

/// Holds a [`PidLock`] until dropped.
pub struct PidGuard<'a>(&'a PidLock);

impl PidLock {
    pub const fn new() -> Self {
        PidLock(AtomicU32::new(0))
    }

    pub fn lock(&self) -> PidGuard<'_> {
        let me = pid();
        loop {
            match self.0.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return PidGuard(self),
                Err(holder) if holder != 0 && holder != me => {
                    if self.0.compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                        return PidGuard(self);
                    }
                }
                Err(_) => std::thread::yield_now(),
            }
        }
    }
}

impl Drop for PidGuard<'_> {
    fn drop(&mut self) {
        self.0 .0.store(0, Ordering::Release);
    }
}

/// A value behind a [`PidLock`]: a mutex that a fork cannot leave locked forever. Critical
/// sections must be short and must not call into Python.
pub struct ForkSafeCell<T> {
    lock: PidLock,
    value: UnsafeCell<T>,
}

// SAFETY: every access to `value` goes through `with`, which holds `lock`.
unsafe impl<T: Send> Sync for ForkSafeCell<T> {}

impl<T> ForkSafeCell<T> {
    pub const fn new(value: T) -> Self {
        ForkSafeCell { lock: PidLock::new(), value: UnsafeCell::new(value) }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let _guard = self.lock.lock();
        // SAFETY: the lock is held, so this is the only reference.
        f(unsafe { &mut *self.value.get() })
    }
}

/// Aborts a spawned task when the waiter gives up on it (Ctrl-C, an exception in a callback).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a spawned call hands to the thread waiting for it, in order.
enum Msg<T, E> {
    Done(T),
    Event(E),
    /// A log record the call emitted on a runtime thread (see [`route_log`]).
    Log(LogRecord),
    /// The call's task ended without an answer (a panic in the core).
    Lost,
}

/// The wait channel of one blocking call: the messages of the call in order, and a condition
/// the waiting thread sleeps on. Log records join the queue without waking the waiter (they are
/// emitted when the answer, an event, or the next signal poll wakes it), so a call costs the
/// runtime one wake-up of the Python thread, and the runtime's threads never take the GIL.
struct Waiting<T, E> {
    state: std::sync::Mutex<(Vec<Msg<T, E>>, bool)>,
    ready: std::sync::Condvar,
}

impl<T, E> Waiting<T, E> {
    fn push(&self, msg: Msg<T, E>) {
        let wake = !matches!(msg, Msg::Log(_));
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0.push(msg);
        if wake && !state.1 {
            state.1 = true;
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Waits up to `timeout` for a waking message; returns everything queued so far.
    fn take(&self, timeout: Duration) -> Vec<Msg<T, E>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.1 {
            state = match self.ready.wait_timeout_while(state, timeout, |s| !s.1) {
                Ok((s, _)) => s,
                Err(e) => e.into_inner().0,
            };
        }
        state.1 = false;
        std::mem::take(&mut state.0)
    }
}

/// Sends events (progress) from a running call to the Python thread waiting for it.
pub struct EventSender<T, E>(Arc<Waiting<T, E>>);

impl<T, E> EventSender<T, E> {
    pub fn send(&self, event: E) {
        // The waiter may have given up (Ctrl-C); then nobody takes the event.
        self.0.push(Msg::Event(event));
    }
}

/// Tells the waiter that the call's task ended without an answer (dropped, or a panic).
struct SendLost<T, E>(Option<Arc<Waiting<T, E>>>);

impl<T, E> Drop for SendLost<T, E> {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            w.push(Msg::Lost);
        }
    }
}

/// Runs `fut` on the runtime and waits for it with the GIL released, running Python's signal
/// handlers every [`SIGNAL_POLL`]; a handler that raises (Ctrl-C) aborts the call and the
/// exception propagates.
pub fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    block_on_with_events::<T, (), _, _>(py, |_| fut, |_, ()| Ok(()))
}

/// [`block_on`] for a call that reports events while it runs: `make` gets a sender to report
/// them with, and `on_event` handles each one on the waiting thread, with the GIL. An error from
/// `on_event` aborts the call and propagates.
///
/// The log records the call emits in its task are queued with its events and answer and logged
/// on this thread, in order, before the answer is returned (see [`route_log`]).
pub fn block_on_with_events<T, E, F, M>(
    py: Python<'_>,
    make: M,
    mut on_event: impl FnMut(Python<'_>, E) -> PyResult<()>,
) -> PyResult<T>
where
    T: Send + 'static,
    E: Send + 'static,
    F: Future<Output = T> + Send + 'static,
    M: FnOnce(EventSender<T, E>) -> F,
{
    let rt = runtime_or_err()?;
    let waiting = Arc::new(Waiting::<T, E> {
        state: std::sync::Mutex::new((Vec::new(), false)),
        ready: std::sync::Condvar::new(),
    });
    let fut = make(EventSender(waiting.clone()));
    let logs = waiting.clone();
    let sink = LogSink::Blocking(Arc::new(move |record| logs.push(Msg::Log(record))));
    let mut lost = SendLost(Some(waiting.clone()));
    let _task = AbortOnDrop(rt.spawn(LOG_SINK.scope(sink, async move {
        let out = fut.await;
        if let Some(w) = lost.0.take() {
            w.push(Msg::Done(out));
        }
    })));
    loop {
        let w = &waiting;
        let msgs = py.detach(|| w.take(SIGNAL_POLL));
        let mut woken = false;
        for msg in msgs {
            match msg {
                Msg::Done(value) => return Ok(value),
                // A progress callback runs Python code: with a pass of the shutdown gate (see
                // `spawn_async`), and not at all once the `atexit` hook has run.
                Msg::Event(event) => {
                    woken = true;
                    if let Some(_pass) = shutdown::enter() {
                        on_event(py, event)?
                    }
                }
                // Back through `log::logger()`: on this thread no call is running, so the
                // logger hands it to `pyo3-log` (the GIL is held), through the shutdown gate.
                Msg::Log(record) => record.emit(),
                Msg::Lost => {
                    return Err(crate::error::internal(
                        "the call stopped without an answer (its task ended unexpectedly)",
                    ))
                }
            }
        }
        if !woken {
            py.check_signals()?;
        }
    }
}

// --------------------------------------------------------------------------------------------
// asyncio
// --------------------------------------------------------------------------------------------

/// What a running async call hands to its event loop. Plain Rust values only: the runtime's
/// threads never hold (or drop) a Python object.
pub enum Event {
    /// The call's answer; settles its future.
    Done(Outcome),
    /// A log record the call emitted on a runtime thread, for Python's `logging`.
    Log(LogRecord),
}

/// A `log::Record`, owned, to be logged on the loop's thread.
pub struct LogRecord {
    level: log::Level,
    target: String,
    message: String,
    module_path: Option<Cow<'static, str>>,
    file: Option<Cow<'static, str>>,
    line: Option<u32>,
}

impl LogRecord {
    fn emit(&self) {
        log::logger().log(
            &log::Record::builder()
                .args(format_args!("{}", self.message))
                .level(self.level)
                .target(&self.target)
                .module_path(self.module_path.as_deref())
                .file(self.file.as_deref())
                .line(self.line)
                .build(),
        );
    }
}

/// Where the log records of the call running in a task go.
enum LogSink {
    /// The queue of the event loop awaiting the (async) call.
    Loop(Arc<Shared>),
    /// The wait channel of the thread waiting for the (blocking) call.
    Blocking(Arc<dyn Fn(LogRecord) + Send + Sync>),
}

tokio::task_local! {
    /// The sink of the call that runs in this task.
    static LOG_SINK: LogSink;
}

/// Hands `record` to the Python thread waiting for the call being run on this thread: the event
/// loop awaiting an async call, or the thread blocked in [`block_on`]. `logging` is then called
/// on that thread, with the GIL, in order with the call's events and answer, instead of a
/// runtime thread taking the GIL (and a Python thread state) for every record. Returns whether
/// the record was taken (false outside a call's task).
pub fn route_log(record: &log::Record<'_>) -> bool {
    LOG_SINK
        .try_with(|sink| {
            let owned = LogRecord {
                level: record.level(),
                target: record.target().to_owned(),
                message: record.args().to_string(),
                // Static in the common case: no copy.
                module_path: record
                    .module_path_static()
                    .map(Cow::Borrowed)
                    .or_else(|| record.module_path().map(|m| Cow::Owned(m.to_owned()))),
                file: record
                    .file_static()
                    .map(Cow::Borrowed)
                    .or_else(|| record.file().map(|f| Cow::Owned(f.to_owned()))),
                line: record.line(),
            };
            match sink {
                LogSink::Loop(queue) => queue.push(0, Event::Log(owned)),
                LogSink::Blocking(send) => send(owned),
            }
        })
        .is_ok()
}

/// How a runtime thread tells the loop that the queue has something.
enum Waker {
    /// The write end of a socket pair whose read end the loop watches (`loop.add_reader`).
    #[cfg(unix)]
    Socket(UnixStream),
    /// For loops without `add_reader` (Windows' proactor loop): `loop.call_soon_threadsafe
    /// (bridge.drain)` from the runtime thread, with the GIL, through the gate of `shutdown.rs`.
    /// Weak references, so that the loop and the bridge die with the loop.
    Threadsafe { loop_ref: Py<PyWeakrefReference>, bridge_ref: Py<PyWeakrefReference> },
}

/// The part of a loop's bridge that the runtime's threads see.
struct Shared {
    queue: ForkSafeCell<Vec<(u64, Event)>>,
    waker: OnceLock<Waker>,
}

impl Shared {
    /// Queues `event` for call `id`; wakes the loop only when the queue was empty (otherwise a
    /// wake-up is already on its way: the loop empties the wake channel before it takes the
    /// queue).
    ///
    /// On a runtime thread the wake-up is deferred by one scheduler round: a small task yields
    /// once (tokio runs it again when the worker has run out of ready tasks, or after at most
    /// its event interval of polls) and then wakes the loop. The answers that complete in that
    /// round (responses read from the same poll of the I/O driver) join the queue and cost the
    /// loop one wake-up and the worker one write between them, instead of one each.
    fn push(self: &Arc<Self>, id: u64, event: Event) {
        let was_empty = self.queue.with(|q| {
            let empty = q.is_empty();
            q.push((id, event));
            empty
        });
        if !was_empty {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let shared = Arc::clone(self);
                handle.spawn(async move {
                    tokio::task::yield_now().await;
                    shared.wake();
                });
            }
            // Not on a runtime thread (a task dropped on the loop's thread): wake at once.
            Err(_) => self.wake(),
        }
    }

    fn wake(&self) {
        match self.waker.get() {
            #[cfg(unix)]
            Some(Waker::Socket(stream)) => loop {
                match (&*stream).write(&[1]) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    // WouldBlock: the channel is full of unread bytes, so the loop wakes anyway.
                    // Any other error: the loop is gone, nobody is waiting.
                    _ => break,
                }
            },
            Some(Waker::Threadsafe { loop_ref, bridge_ref }) => {
                let _ = shutdown::attach(|py| {
                    let (Some(lp), Some(bridge)) = (loop_ref.bind(py).upgrade(), bridge_ref.bind(py).upgrade()) else {
                        return;
                    };
                    // Fails once the loop is closed: then nobody is waiting for the answer.
                    let _ = bridge
                        .getattr(intern!(py, "drain"))
                        .and_then(|drain| lp.call_method1(intern!(py, "call_soon_threadsafe"), (drain,)));
                });
            }
            None => {}
        }
    }
}

/// Delivers an answer even if the call's task ends without one (a panic in the core): the
/// awaiting coroutine gets an error instead of waiting forever.
struct Deliver {
    shared: Arc<Shared>,
    id: u64,
    sent: bool,
}

impl Deliver {
    fn send(mut self, outcome: Outcome) {
        self.sent = true;
        self.shared.push(self.id, Event::Done(outcome));
    }
}

impl Drop for Deliver {
    fn drop(&mut self) {
        if !self.sent {
            // Also after an abort (a cancelled future): then the call is no longer in the
            // bridge's table and `drain` ignores this.
            let outcome = Outcome::Internal("the call stopped without an answer (its task ended unexpectedly)".into());
            self.shared.push(self.id, Event::Done(outcome));
        }
    }
}

/// A call in flight, as the loop's thread sees it.
struct Entry {
    fut: Py<PyAny>,
    abort: tokio::task::AbortHandle,
}

/// The completion bridge of one event loop (of one process): the queue the runtime's threads
/// push answers to, the wake channel the loop watches, and the table of the calls in flight.
#[pyclass(frozen, weakref, module = "partly._native")]
pub struct LoopBridge {
    pid: u32,
    loop_ref: Py<PyWeakrefReference>,
    shared: Arc<Shared>,
    #[cfg(unix)]
    reader: Option<UnixStream>,
    calls: ForkSafeCell<HashMap<u64, Entry>>,
}

impl Drop for LoopBridge {
    fn drop(&mut self) {
        let calls = self.calls.with(std::mem::take);
        if self.pid == pid() {
            for entry in calls.values() {
                entry.abort.abort();
            }
            drop(calls);
        } else {
            // A forked child dropping its parent's bridge: the tasks belong to the parent's
            // runtime, which must not be touched here (see the module docs).
            std::mem::forget(calls);
        }
    }
}

#[pymethods]
impl LoopBridge {
    /// Runs on the loop (its reader callback): settles the futures of the answers queued
    /// since the last wake-up, and schedules the progress callbacks.
    fn drain(&self, py: Python<'_>) {
        // Settling futures and logging run Python code: hold a pass for it (see `spawn_async`).
        // Once the `atexit` hook has run, nothing is delivered: only a daemon thread's loop can
        // still be running then, and the process is exiting.
        let Some(_pass) = shutdown::enter() else { return };
        #[cfg(unix)]
        if let Some(reader) = &self.reader {
            let mut buf = [0u8; 256];
            loop {
                match (&*reader).read(&mut buf) {
                    Ok(n) if n == buf.len() => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    // A short read, EOF or WouldBlock: the channel is empty. A byte written
                    // after this read is for an event pushed after it, which the next
                    // wake-up delivers (or this one, if the push beat the take below).
                    _ => break,
                }
            }
        }
        let events = self.shared.queue.with(std::mem::take);
        for (id, event) in events {
            match event {
                Event::Done(outcome) => {
                    let Some(entry) = self.calls.with(|c| c.remove(&id)) else {
                        continue; // cancelled
                    };
                    settle(py, entry.fut.bind(py), outcome);
                }
                // Back through `log::logger()`: on this thread no call is running, so the logger
                // hands it to `pyo3-log` (the GIL is held already).
                Event::Log(record) => record.emit(),
            }
        }
    }

    /// Called by a cancelled future: forgets the call and aborts its task (which drops its HTTP
    /// request).
    fn cancel_call(&self, id: u64) {
        if let Some(entry) = self.calls.with(|c| c.remove(&id)) {
            entry.abort.abort();
        }
    }
}

/// Sets the outcome on `fut` unless it is done already.
fn settle(py: Python<'_>, fut: &Bound<'_, PyAny>, outcome: Outcome) {
    let result = (|| -> PyResult<()> {
        if fut.call_method0(intern!(py, "done"))?.is_truthy()? {
            return Ok(());
        }
        match outcome.into_py(py) {
            Ok(value) => fut.call_method1(intern!(py, "set_result"), (value,))?,
            Err(err) => fut.call_method1(intern!(py, "set_exception"), (err.into_value(py),))?,
        };
        Ok(())
    })();
    if let Err(e) = result {
        e.write_unraisable(py, Some(fut));
    }
}

/// The future class of async calls: an `asyncio.Future` whose `cancel()` also aborts the call.
const FUTURE_CODE: &CStr = c"
import asyncio
import weakref

class PartlyFuture(asyncio.Future):
    __slots__ = ('_partly_bridge', '_partly_id')

    def cancel(self, msg=None):
        if not super().cancel(msg):
            return False
        bridge = self._partly_bridge
        if bridge is not None:
            self._partly_bridge = None
            bridge.cancel_call(self._partly_id)
        return True

bridges = weakref.WeakKeyDictionary()
";

struct AsyncGlue {
    future_class: Py<PyAny>,
    bridges: Py<PyAny>,
    get_running_loop: Py<PyAny>,
}

static GLUE: PyOnceLock<AsyncGlue> = PyOnceLock::new();

fn glue(py: Python<'_>) -> PyResult<&AsyncGlue> {
    GLUE.get_or_try_init(py, || {
        let m = PyModule::from_code(py, FUTURE_CODE, c"partly/_native/asyncio.py", c"partly._native_asyncio")?;
        Ok(AsyncGlue {
            future_class: m.getattr("PartlyFuture")?.unbind(),
            bridges: m.getattr("bridges")?.unbind(),
            get_running_loop: py.import("asyncio")?.getattr("get_running_loop")?.unbind(),
        })
    })
}

/// The bridge used last (most programs run one loop at a time): saves the dictionary look-up.
static LAST_BRIDGE: ForkSafeCell<Option<Py<LoopBridge>>> = ForkSafeCell::new(None);

/// The bridge of `lp` in this process, created (and registered with the loop) on first use.
fn bridge_for<'py>(py: Python<'py>, glue: &AsyncGlue, lp: &Bound<'py, PyAny>) -> PyResult<Bound<'py, LoopBridge>> {
    let me = pid();
    let is_ours = |b: &Bound<'py, LoopBridge>| {
        let b = b.get();
        b.pid == me && b.loop_ref.bind(py).upgrade().is_some_and(|l| l.is(lp))
    };
    if let Some(last) = LAST_BRIDGE.with(|l| l.as_ref().map(|b| b.clone_ref(py))) {
        let last = last.into_bound(py);
        if is_ours(&last) {
            return Ok(last);
        }
    }
    let bridges = glue.bridges.bind(py);
    let found = bridges.call_method1(intern!(py, "get"), (lp,))?;
    let bridge = match found.cast_into::<LoopBridge>() {
        // A bridge made by the parent of this forked process is not reused: its wake channel
        // is registered in the parent's selector (which the child shares).
        Ok(b) if is_ours(&b) => b,
        _ => {
            let b = LoopBridge::create(py, lp)?;
            bridges.set_item(lp, &b)?;
            b
        }
    };
    let old = LAST_BRIDGE.with(|l| l.replace(bridge.clone().unbind()));
    drop(old); // outside the lock: dropping a bridge can run Python code
    Ok(bridge)
}

impl LoopBridge {
    fn create<'py>(py: Python<'py>, lp: &Bound<'py, PyAny>) -> PyResult<Bound<'py, LoopBridge>> {
        let io_err =
            |e: std::io::Error| crate::error::internal(format!("could not create the asyncio wake channel: {e}"));
        let loop_ref = PyWeakrefReference::new(lp)?.unbind();
        let shared = Arc::new(Shared { queue: ForkSafeCell::new(Vec::new()), waker: OnceLock::new() });
        #[cfg(unix)]
        {
            let (reader, writer) = UnixStream::pair().map_err(io_err)?;
            reader.set_nonblocking(true).map_err(io_err)?;
            writer.set_nonblocking(true).map_err(io_err)?;
            let fd = reader.as_raw_fd();
            let bridge = Bound::new(
                py,
                LoopBridge {
                    pid: pid(),
                    loop_ref: loop_ref.clone_ref(py),
                    shared: shared.clone(),
                    reader: Some(reader),
                    calls: ForkSafeCell::new(HashMap::new()),
                },
            )?;
            let drain = bridge.getattr(intern!(py, "drain"))?;
            match lp.call_method1(intern!(py, "add_reader"), (fd, drain)) {
                Ok(_) => {
                    let _ = shared.waker.set(Waker::Socket(writer));
                    return Ok(bridge);
                }
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyNotImplementedError>(py) => {}
                Err(e) => return Err(e),
            }
        }
        #[cfg(not(unix))]
        let _ = io_err;
        let bridge = Bound::new(
            py,
            LoopBridge {
                pid: pid(),
                loop_ref: loop_ref.clone_ref(py),
                shared: shared.clone(),
                #[cfg(unix)]
                reader: None,
                calls: ForkSafeCell::new(HashMap::new()),
            },
        )?;
        let bridge_ref = PyWeakrefReference::new(bridge.as_any())?.unbind();
        let _ = shared.waker.set(Waker::Threadsafe { loop_ref, bridge_ref });
        Ok(bridge)
    }
}

static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

/// An awaitable (a future of the running loop) for `call`, which runs on the runtime.
/// Cancelling the awaitable aborts the call (its HTTP request is dropped).
pub fn spawn_async<'py, F>(py: Python<'py>, call: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    // A pass through the shutdown gate for as long as this runs Python code (the loop's
    // `add_reader`, `WeakKeyDictionary.get`, ...), declared first so that it is dropped last,
    // after every `Bound` of this function: on a daemon thread, Python code may give up the GIL,
    // and were the interpreter to finalize meanwhile, CPython (before 3.14) would end the thread
    // with `pthread_exit()` from inside this function, whose unwinding drops those `Bound`s
    // without the GIL (SIGSEGV). With the pass held, the `atexit` hook waits for this to return.
    let Some(_pass) = shutdown::enter() else {
        // Its result could never be delivered (see `shutdown.rs`): fail now rather than hang.
        return Err(crate::error::partly_error(
            "Python is shutting down (partly's atexit hook has run): async calls can no longer complete".to_owned(),
        ));
    };
    let rt = runtime_or_err()?;
    let glue = glue(py)?;
    let lp = glue.get_running_loop.bind(py).call0()?;
    let bridge = bridge_for(py, glue, &lp)?;
    let b = bridge.get();
    let id = NEXT_CALL.fetch_add(1, Ordering::Relaxed);

    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "loop"), &lp)?;
    let fut = glue.future_class.bind(py).call((), Some(&kwargs))?;
    fut.setattr(intern!(py, "_partly_bridge"), &bridge)?;
    fut.setattr(intern!(py, "_partly_id"), id)?;

    let deliver = Deliver { shared: b.shared.clone(), id, sent: false };
    // The loop's thread is this one, and it holds the GIL: nothing can drain the answer before
    // the entry is in the table.
    let task = rt.spawn(LOG_SINK.scope(LogSink::Loop(b.shared.clone()), async move {
        let outcome = call.await;
        deliver.send(outcome);
    }));
    let entry = Entry { fut: fut.clone().unbind(), abort: task.abort_handle() };
    b.calls.with(|c| c.insert(id, entry));
    Ok(fut)
}
