//! The core's errors as instances of the classes in `partly/errors.py`.
//!
//! The classes live in Python (docstrings, pickling, builtin bases); this file only picks the
//! class by [`ErrorKind::class_name`](partly::ErrorKind::class_name) and fills in the fields.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS.get_or_try_init(py, || py.import("partly.errors").map(Bound::unbind)).map(|m| m.bind(py))
}

/// The exception object for `err` (not raised): `partly.errors.<ClassName>(str(err), **fields)`.
pub fn to_pyobject<'py>(py: Python<'py>, err: &partly::Error) -> PyResult<Bound<'py, PyAny>> {
    let module = errors_module(py)?;
    // A kind newer than errors.py still gets the common base class, never a bare RuntimeError.
    let class = module.getattr(err.kind().class_name()).or_else(|_| module.getattr("PartlyError"))?;
    // The fields of `partly::shapes::ERROR`, by the core's names: declared once, in the core.
    let kwargs = PyDict::new(py);
    for (name, value) in err.fields() {
        kwargs.set_item(name, crate::models::from_json(py, &value)?)?;
    }
    class.call((err.to_string(),), Some(&kwargs))
}

/// `err` as a Python exception to raise.
pub fn to_pyerr(py: Python<'_>, err: &partly::Error) -> PyErr {
    match to_pyobject(py, err) {
        Ok(obj) => PyErr::from_value(obj),
        Err(e) => e,
    }
}

/// A `partly.ValidationError` with this message (a wrong argument type, found in the binding
/// before the core is called).
pub fn validation(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_pyerr(py, &partly::Error::validation(message))
}

/// A `partly.PartlyError` for something that went wrong inside the SDK itself (no I/O threads,
/// a task that ended without an answer). Built lazily so it can be made without the GIL.
pub fn internal(message: impl Into<String>) -> PyErr {
    partly_error(format!("internal error in the partly SDK: {}", message.into()))
}

/// A plain `partly.PartlyError` with this message.
pub fn partly_error(message: String) -> PyErr {
    Python::attach(|py| match errors_module(py).and_then(|m| m.getattr("PartlyError")) {
        Ok(class) => match class.call1((message,)) {
            Ok(obj) => PyErr::from_value(obj),
            Err(e) => e,
        },
        Err(e) => e,
    })
}

/// Extension: the core's `Result` as a `PyResult`.
pub trait IntoPyResult<T> {
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, partly::Error> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_pyerr(py, &e))
    }
}
