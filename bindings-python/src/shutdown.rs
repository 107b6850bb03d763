//! Keeps the SDK's own threads out of Python once the interpreter starts to shut down.
//!
//! **The crash this prevents.** The runtime's threads used to enter Python on their own:
//! `pyo3-async-runtimes` handed each async call's result to the event loop from a
//! `spawn_blocking` thread (`Python::attach` + `loop.call_soon_threadsafe(...)`), `pyo3-log`
//! takes the GIL for every log record the core emits on a worker, and `prepare_all_async` called
//! `on_progress` from a worker. Nothing used to stop such a thread when the main thread reached
//! `Py_FinalizeEx`. `call_soon_threadsafe` is Python code that writes to the loop's self-pipe,
//! which releases the GIL: the main thread (woken by that very write) takes it, finishes
//! `asyncio.run()`, and starts finalizing while the worker is still inside `Python::attach`.
//! When the worker asks for the GIL back, CPython (before 3.14) ends it with `pthread_exit()`
//! from `take_gil`. The forced unwind runs the Rust destructors of the frames it crosses,
//! *without the GIL*: the `Py_DECREF` of the bound method (`method_dealloc` racing the main
//! thread's final GC: SIGSEGV), then pyo3's `PyGILState_Release` for a thread state that is no
//! longer current ("Fatal Python error: PyGILState_Release: thread state ... must be current
//! when releasing": SIGABRT). A check of `Py_IsFinalizing()` before attaching (which pyo3 makes
//! on 3.13+, and which the abi3 build cannot call before 3.13) would not help: the thread that
//! crashes had attached before finalization began.
//!
//! Async results, progress reports and the log records of async calls now reach Python through
//! the completion bridge of `runtime.rs`, on the event loop's thread: the runtime's threads take
//! no GIL for them. What still enters Python from a runtime thread is `pyo3-log` for the records
//! of blocking calls, and the wake-up of loops without `add_reader`; both go through this gate.
//!
//! **The fix: a gate with a handshake before finalization.** Every path by which a thread of
//! ours enters Python goes through [`enter`] (or [`attach`]), which counts the thread in, and
//! fails once the gate is closed. An `atexit` hook ([`register`]) closes the gate and then, with
//! the GIL released, waits until the count of threads inside Python drops to zero. `atexit`
//! hooks run at the start of `Py_FinalizeEx`, before the runtime is marked finalizing, while the
//! interpreter is intact, so a thread caught inside Python finishes normally. Once the hook has
//! returned, no thread of ours enters Python again: log records of blocking calls are dropped,
//! loops without `add_reader` are no longer woken, and `Py<T>` values dropped on a worker go to
//! pyo3's deferred-decref pool, which only a thread holding the GIL empties. (Results queued for
//! a loop that no longer runs are plain Rust values: nothing of Python is touched.) The count and the flag are
//! one atomic word with the id of the process, so a forked child starts with an open gate and a
//! zero count (the parent's threads, and whatever they were doing in Python, are not in the
//! child).
//!
//! What is left to Python code after the hook: blocking calls still work on the thread that
//! exits (the I/O threads never needed Python for them), and new async calls raise
//! `PartlyError` at once instead of returning an awaitable that could never complete. Only
//! `atexit` hooks registered before `partly` was imported run after ours.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyModule;

use crate::runtime;

/// How long the `atexit` hook waits for threads inside Python (a slow `logging` handler) before
/// letting the interpreter go on regardless. Usually nothing is inside, and it does not wait.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// `pid << 32 | CLOSED | count of passes`: who owns the gate, whether it is closed, and how many
/// threads are between [`enter`] and the drop of their [`PythonPass`].
static GATE: AtomicU64 = AtomicU64::new(0);
const CLOSED: u64 = 1 << 31;
const COUNT: u64 = CLOSED - 1;

fn owner(word: u64) -> u64 {
    word >> 32
}

/// Permission for this thread to enter Python; the gate's `atexit` hook waits for every pass
/// to be dropped. Hold it until the thread has left Python (after `Python::attach` returns).
pub struct PythonPass {
    pid: u64,
}

/// A pass, or `None` once the interpreter is shutting down: then the caller must not touch
/// Python at all (not attach, not call, not drop a `Bound`).
pub fn enter() -> Option<PythonPass> {
    let me = u64::from(runtime::pid());
    let mut word = GATE.load(SeqCst);
    loop {
        let next = if owner(word) != me {
            // First use in this process (or in a forked child: the parent's state is not ours).
            (me << 32) | 1
        } else if word & CLOSED != 0 {
            return None;
        } else if word & COUNT == COUNT {
            return None; // 2^31 threads inside Python: not a real case, but never overflow
        } else {
            word + 1
        };
        match GATE.compare_exchange_weak(word, next, SeqCst, SeqCst) {
            Ok(_) => return Some(PythonPass { pid: me }),
            Err(now) => word = now,
        }
    }
}

impl Drop for PythonPass {
    fn drop(&mut self) {
        let pid = self.pid;
        let _ = GATE.fetch_update(SeqCst, SeqCst, |word| (owner(word) == pid && word & COUNT > 0).then(|| word - 1));
    }
}

/// `Python::attach(f)` for a thread of the runtime, or `None` (and `f` not called) once the
/// interpreter is shutting down.
pub fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    let _pass = enter()?;
    Some(Python::attach(f))
}

/// The `atexit` hook: closes the gate, then waits (GIL released) for the threads inside Python.
#[pyfunction]
fn close_python_gate(py: Python<'_>) {
    let me = u64::from(runtime::pid());
    let _ = GATE
        .fetch_update(SeqCst, SeqCst, |word| Some(if owner(word) == me { word | CLOSED } else { (me << 32) | CLOSED }));
    let inside = || {
        let word = GATE.load(SeqCst);
        owner(word) == me && word & COUNT > 0
    };
    if !inside() {
        return;
    }
    // A thread inside may be waiting for the GIL (that is the race): let it have it.
    py.detach(move || {
        let deadline = Instant::now() + DRAIN_LIMIT;
        let mut spins = 0u32;
        while inside() && Instant::now() < deadline {
            if spins < 100 {
                spins += 1;
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
}

/// Registers the hook with `atexit` when `partly._native` is imported. The function is not an
/// attribute of the module; `atexit` holds the only reference.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let hook = wrap_pyfunction!(close_python_gate, m)?;
    m.py().import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
