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
//!
//! **Async calls** ([`future_into_py`]) use `pyo3-async-runtimes`' generic bridge with
//! [`PartlyRuntime`]: the awaitable belongs to the event loop running when it was created, the
//! work runs on this runtime, which belongs to no event loop, so one client serves any number of
//! `asyncio.run()` calls. Cancelling the awaitable drops the Rust future, which aborts its HTTP
//! request.
//!
//! **Exit.** The runtime's threads enter Python (to deliver async results, to log) only through
//! the gate of `shutdown.rs`, which an `atexit` hook closes before the interpreter finalizes.

use std::cell::{OnceCell, UnsafeCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use pyo3_async_runtimes::TaskLocals;
use tokio::runtime::{Builder, Runtime};

use crate::shutdown;

/// How often a blocked call wakes up to run Python's signal handlers.
pub const SIGNAL_POLL: Duration = Duration::from_millis(50);

static RUNTIME: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());
static RUNTIME_PID: AtomicU32 = AtomicU32::new(0);
static INSTALL: PidLock = PidLock::new();

/// The id of this process (changes in a forked child).
pub fn pid() -> u32 {
    std::process::id()
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
    let rt = Builder::new_multi_thread()
        .enable_all()
        .thread_name("partly-worker")
        .build()?;
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
    runtime().map_err(|e| {
        crate::error::internal(format!("could not start the SDK's I/O threads: {e}"))
    })
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
                    if self
                        .0
                        .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
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

/// What a spawned call sends back to the thread waiting for it.
enum Msg<T, E> {
    Done(T),
    Event(E),
}

/// Sends events (progress) from a running call to the Python thread waiting for it.
pub struct EventSender<T, E>(mpsc::Sender<Msg<T, E>>);

impl<T, E> EventSender<T, E> {
    pub fn send(&self, event: E) {
        // The waiter may have given up (Ctrl-C); then nobody wants the event.
        let _ = self.0.send(Msg::Event(event));
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
    let (tx, rx) = mpsc::channel::<Msg<T, E>>();
    let fut = make(EventSender(tx.clone()));
    let _task = AbortOnDrop(rt.spawn(async move {
        let out = fut.await;
        let _ = tx.send(Msg::Done(out));
    }));
    let mut rx = Some(rx);
    loop {
        let Some(receiver) = rx.take() else {
            return Err(crate::error::internal("the call's channel was lost"));
        };
        let (received, receiver) = py.detach(move || {
            let r = receiver.recv_timeout(SIGNAL_POLL);
            (r, receiver)
        });
        rx = Some(receiver);
        match received {
            Ok(Msg::Done(value)) => return Ok(value),
            Ok(Msg::Event(event)) => on_event(py, event)?,
            Err(mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(crate::error::internal(
                    "the call stopped without an answer (its task ended unexpectedly)",
                ))
            }
        }
    }
}

/// The runtime as `pyo3-async-runtimes` sees it: spawns on [`runtime`], so it follows forks.
pub struct PartlyRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

fn spawn_handle() -> &'static Runtime {
    match runtime() {
        Ok(rt) => rt,
        // `future_into_py` below builds the runtime (or fails cleanly) before the bridge can
        // spawn anything, so this is only reached if the OS refuses threads in between.
        Err(e) => panic!("partly: could not start the SDK's I/O threads: {e}"),
    }
}

/// tokio's `JoinError` for the bridge.
pub struct JoinError(tokio::task::JoinError);

impl pyo3_async_runtimes::generic::JoinError for JoinError {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }
    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

/// tokio's `JoinHandle` for the bridge.
pub struct JoinHandle(tokio::task::JoinHandle<()>);

impl Future for JoinHandle {
    type Output = Result<(), JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|r| r.map_err(JoinError))
    }
}

impl GenericRuntime for PartlyRuntime {
    type JoinError = JoinError;
    type JoinHandle = JoinHandle;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        JoinHandle(spawn_handle().spawn(fut))
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        // The bridge uses `spawn_blocking` only to hand a result to the event loop, inside
        // `Python::attach`: from a thread of ours, so through the gate of `shutdown.rs`. Once
        // the interpreter is shutting down the closure is leaked, not dropped: dropping it would
        // release the Python objects it holds (the asyncio future, the loop) off the GIL.
        JoinHandle(spawn_handle().spawn_blocking(move || match shutdown::enter() {
            Some(_pass) => f(),
            None => std::mem::forget(f),
        }))
    }
}

impl ContextExt for PartlyRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(|c| c.get().cloned()).unwrap_or_default()
    }
}

/// An awaitable (an `asyncio.Future` of the running loop) for `fut`, which runs on the runtime.
/// Cancelling the awaitable drops `fut`.
pub fn future_into_py<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    if shutdown::is_closed() {
        // Its result could never be delivered (see `shutdown.rs`): fail now rather than hang.
        return Err(crate::error::partly_error(
            "Python is shutting down (partly's atexit hook has run): async calls can no longer complete"
                .to_owned(),
        ));
    }
    runtime_or_err()?;
    pyo3_async_runtimes::generic::future_into_py::<PartlyRuntime, F, T>(py, fut)
}
