//! Conversion between Python values and the core's inputs and results.
//!
//! Inputs: plain Python values (str, int, float, bool, None, dict, list, tuple, `uuid.UUID`,
//! `decimal.Decimal`)
//! become JSON or the core's types; a wrong type is a `partly.ValidationError` naming the
//! argument. What the values mean (is this a UUID, is this identifier empty, is a batch size in
//! range) is the core's to say: the binding hands it the value and raises what it answers.
//!
//! Results: JSON becomes dicts and lists (the Python models in `partly/models.py` wrap them);
//! errors inside results (a failed `prepare_all` batch) become exception objects.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple, PyType};
use serde_json::{Map, Number, Value};

use partly::numbers::{number_form, number_from_text, NumberForm};
use partly::shapes::FieldValue;
use partly::{CallOptions, PrepareProgress, PrepareReport, VehicleIdentifier};

use crate::error::{self, IntoPyResult};

/// Deepest nesting accepted in a JSON argument (a cycle in a dict or list ends here).
const MAX_DEPTH: usize = 128;

static UUID_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn uuid_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    UUID_TYPE
        .get_or_try_init(py, || {
            py.import("uuid")?.getattr("UUID")?.cast_into::<PyType>().map(Bound::unbind).map_err(PyErr::from)
        })
        .map(|t| t.bind(py))
}

static DECIMAL_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `decimal.Decimal`: results hold numbers no float holds exactly (`1e400`,
/// `3.14159265358979323846`) as decimals, and arguments may give them back.
fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL_TYPE
        .get_or_try_init(py, || {
            py.import("decimal")?.getattr("Decimal")?.cast_into::<PyType>().map(Bound::unbind).map_err(PyErr::from)
        })
        .map(|t| t.bind(py))
}

/// `type(obj).__name__`, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

fn is_uuid(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(uuid_type(obj.py())?)
}

/// A text argument (`str`), or `None` when it is absent.
pub fn opt_str(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<String>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => match o.cast::<PyString>() {
            Ok(s) => Ok(Some(s.to_cow()?.into_owned())),
            Err(_) => Err(error::validation(o.py(), format!("{name} must be a str, got {}", type_name(o)))),
        },
    }
}

/// A required text argument.
pub fn req_str(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    match opt_str(Some(obj), name)? {
        Some(s) => Ok(s),
        None => Err(error::validation(obj.py(), format!("{name} is required; got None"))),
    }
}

/// A UUID argument given as `str` or `uuid.UUID`, as text for the core to parse.
pub fn opt_uuid_text(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<String>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) if is_uuid(o)? => Ok(Some(o.str()?.to_cow()?.into_owned())),
        Some(o) => match o.cast::<PyString>() {
            Ok(s) => Ok(Some(s.to_cow()?.into_owned())),
            Err(_) => {
                Err(error::validation(o.py(), format!("{name} must be a str or uuid.UUID, got {}", type_name(o))))
            }
        },
    }
}

/// A path given as `str` or `os.PathLike`.
pub fn opt_path(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<std::path::PathBuf>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => o.extract::<std::path::PathBuf>().map(Some).map_err(|_| {
            error::validation(o.py(), format!("{name} must be a path (str or os.PathLike), got {}", type_name(o)))
        }),
    }
}

/// A boolean argument (`True`/`False` only: `0`, `""` or `None` are refused, not guessed).
pub fn opt_bool(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<bool>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => match o.cast::<PyBool>() {
            Ok(b) => Ok(Some(b.is_true())),
            Err(_) => Err(error::validation(o.py(), format!("{name} must be True or False, got {}", type_name(o)))),
        },
    }
}

/// A duration in seconds (int or float), checked by the core (positive, finite, at most a day).
pub fn opt_seconds(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Duration>> {
    let Some(o) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let py = o.py();
    if o.is_instance_of::<PyBool>() || !(o.is_instance_of::<PyInt>() || o.is_instance_of::<PyFloat>()) {
        return Err(error::validation(
            py,
            format!("{name} must be a number of seconds (int or float), got {}", type_name(o)),
        ));
    }
    let secs: f64 =
        o.extract().map_err(|_| error::validation(py, format!("{name} is too large a number of seconds")))?;
    partly::config::duration_from_secs(secs, name).py(py).map(Some)
}

/// A number (int or float; the core checks the range that makes sense).
pub fn opt_number(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<f64>> {
    let Some(o) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if o.is_instance_of::<PyBool>() || !(o.is_instance_of::<PyInt>() || o.is_instance_of::<PyFloat>()) {
        return Err(error::validation(o.py(), format!("{name} must be a number (int or float), got {}", type_name(o))));
    }
    o.extract::<f64>().map(Some).map_err(|_| error::validation(o.py(), format!("{name} is too large a number")))
}

/// A whole number ≥ 0 (the core checks the range that makes sense).
pub fn opt_count<T: TryFrom<u64>>(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<T>> {
    let Some(o) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let py = o.py();
    if o.is_instance_of::<PyBool>() || !o.is_instance_of::<PyInt>() {
        return Err(error::validation(py, format!("{name} must be an int, got {}", type_name(o))));
    }
    let n: i128 = o.extract().map_err(|_| error::validation(py, format!("{name} is out of range")))?;
    if n < 0 {
        return Err(error::validation(py, format!("{name} must be 0 or more, got {n}")));
    }
    u64::try_from(n)
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| error::validation(py, format!("{name} of {n} is out of range")))
}

/// Per-call `timeout=` (seconds) and `max_retries=`.
pub fn call_options(
    timeout: Option<&Bound<'_, PyAny>>,
    max_retries: Option<&Bound<'_, PyAny>>,
) -> PyResult<CallOptions> {
    Ok(CallOptions {
        timeout: opt_seconds(timeout, "timeout")?,
        max_retries: opt_count::<u32>(max_retries, "max_retries")?,
        idempotent: None,
        auth: None,
    })
}

/// A Python value as JSON. `what` names the argument in errors, with the path inside it
/// (`data["vehicle"]["year"]`).
pub fn to_json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    to_json_at(obj, what, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, path: &str, depth: usize) -> PyResult<Value> {
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(error::validation(
            py,
            format!("{path} is nested more than {MAX_DEPTH} levels deep (does it contain itself?)"),
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        // Wider than 64 bits: sent exactly, as its digits.
        let text = obj.str()?.to_cow()?.into_owned();
        return number_from_text(&text)
            .map(Value::Number)
            .ok_or_else(|| error::validation(py, format!("{path}: the integer {text} cannot be sent as JSON")));
    }
    if obj.is_instance_of::<PyFloat>() {
        let f: f64 = obj.extract()?;
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| error::validation(py, format!("{path}: {f} cannot be sent as JSON (not a finite number)")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if obj.is_instance(decimal_type(py)?)? {
        // A decimal.Decimal (how results hold numbers a float cannot): sent exactly.
        let text = obj.str()?.to_cow()?.into_owned();
        return number_from_text(&text).map(Value::Number).ok_or_else(|| {
            error::validation(py, format!("{path}: Decimal({text:?}) cannot be sent as JSON (not a finite number)"))
        });
    }
    if is_uuid(obj)? {
        return Ok(Value::String(obj.str()?.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_cow()?.into_owned(),
                Err(_) => {
                    return Err(error::validation(
                        py,
                        format!("{path}: keys must be str to send as JSON, got a {} key", type_name(&k)),
                    ))
                }
            };
            let value = to_json_at(&v, &format!("{path}[{key:?}]"), depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            items.push(to_json_at(&item?, &format!("{path}[{i}]"), depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    if let Ok(m) = obj.cast::<PyMapping>() {
        // Another mapping (types.MappingProxyType, a custom Mapping): read it as a dict.
        let d = PyDict::new(py);
        for item in m.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            d.set_item(k, v)?;
        }
        return to_json_at(d.as_any(), path, depth);
    }
    Err(error::validation(
        py,
        format!(
            "{path}: a {} cannot be sent as JSON; give str, int, float, bool, None, dict, list or uuid.UUID",
            type_name(obj)
        ),
    ))
}

/// JSON as Python values: dicts (in the server's key order), lists, str, int, float, bool, None,
/// and `decimal.Decimal` for a number no float holds exactly (lossless: `partly::numbers`).
pub fn from_json<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match number_form(n) {
            NumberForm::I64(i) => i.into_pyobject(py)?.into_any(),
            NumberForm::U64(u) => u.into_pyobject(py)?.into_any(),
            NumberForm::BigInt(text) => py.get_type::<PyInt>().call1((text,))?,
            NumberForm::F64(f) => f.into_pyobject(py)?.into_any(),
            NumberForm::Decimal(text) => decimal_type(py)?.call1((text,))?,
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_json(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, from_json(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Vehicle identifiers: a list or tuple of chassis-number strings and plate (or other) dicts.
pub fn identifiers(obj: &Bound<'_, PyAny>) -> PyResult<Vec<VehicleIdentifier>> {
    let py = obj.py();
    if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
        let hint = if obj.is_instance_of::<PyString>() { " (for one vehicle, give a list of one)" } else { "" };
        return Err(error::validation(
            py,
            format!(
                "identifiers must be a list of vehicle identifiers (chassis-number strings or dicts such as {{\"plate\": \"ABC123\", \"region\": \"NZ\"}}), got {}{hint}",
                type_name(obj)
            ),
        ));
    }
    let mut items = Vec::new();
    for (i, item) in obj.try_iter()?.enumerate() {
        items.push(to_json(&item?, &format!("identifiers[{i}]"))?);
    }
    VehicleIdentifier::list_from_json(serde_json::Value::Array(items))
        .map_err(|e| error::validation(py, e.message().to_string()))
}

/// One field value of an SDK record (`partly::shapes::FieldValue`) as a Python value. `errors`
/// keeps the last error made, so that the identifiers of one failed request share one exception
/// object.
fn field_to_py<'py>(
    py: Python<'py>,
    value: &FieldValue<'_>,
    errors: &mut LastError<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match *value {
        FieldValue::Null => py.None().into_bound(py),
        FieldValue::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        FieldValue::Count(n) => n.into_pyobject(py)?.into_any(),
        FieldValue::Number(x) => x.into_pyobject(py)?.into_any(),
        FieldValue::Text(t) => PyString::new(py, t).into_any(),
        FieldValue::Indices(ix) => PyList::new(py, ix)?.into_any(),
        FieldValue::Identifier(id) => from_json(py, &id.to_json())?,
        FieldValue::Identifiers(ids) => {
            let list = PyList::empty(py);
            for id in ids {
                list.append(from_json(py, &id.to_json())?)?;
            }
            list.into_any()
        }
        FieldValue::Error(e) => {
            let ptr = std::sync::Arc::as_ptr(e);
            match &errors.0 {
                Some((p, obj)) if *p == ptr => obj.clone(),
                _ => {
                    let obj = error::to_pyobject(py, e)?;
                    errors.0 = Some((ptr, obj.clone()));
                    obj
                }
            }
        }
        FieldValue::Failures(failures) => {
            let list = PyList::empty(py);
            for f in failures {
                list.append(record_to_py(py, &f.fields(), errors)?)?;
            }
            list.into_any()
        }
    })
}

/// The last error object made (see [`field_to_py`]).
#[derive(Default)]
pub struct LastError<'py>(Option<(*const partly::Error, Bound<'py, PyAny>)>);

/// An SDK record's fields (`PrepareProgress::fields()`, ...) as a dict keyed by the shape's
/// names, in its order: the keyword arguments of the `partly.models` class of that shape.
pub fn record_to_py<'py>(
    py: Python<'py>,
    fields: &[(&'static str, FieldValue<'_>)],
    errors: &mut LastError<'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, value) in fields {
        d.set_item(intern(py, name), field_to_py(py, value, errors)?)?;
    }
    Ok(d)
}

/// A field name as an interned Python string (the same key object at every call: `on_progress`
/// may run thousands of times a second).
fn intern<'py>(py: Python<'py>, name: &'static str) -> Bound<'py, PyString> {
    PyString::intern(py, name)
}

static PROGRESS_TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A `partly.models.PrepareProgress`.
pub fn progress_to_py<'py>(py: Python<'py>, p: &PrepareProgress) -> PyResult<Bound<'py, PyAny>> {
    let class = PROGRESS_TYPE
        .get_or_try_init(py, || py.import("partly.models")?.getattr("PrepareProgress").map(Bound::unbind))?
        .bind(py);
    class.call((), Some(&record_to_py(py, &p.fields(), &mut LastError::default())?))
}

/// One settled request (for `on_batch`) as the keyword arguments of `partly.PrepareBatch`.
pub fn batch_to_py<'py>(py: Python<'py>, b: &partly::PrepareBatch) -> PyResult<Bound<'py, PyDict>> {
    record_to_py(py, &b.fields(), &mut LastError::default())
}

/// A `PrepareReport` as a dict of its shape's fields, `failures` a list of dicts (the keyword
/// arguments of `partly.PrepareFailure`), each failure's error an exception object (one per
/// request: the identifiers of one failed request share it). The Python side makes it a
/// `partly.PrepareReport`.
pub fn report_to_py<'py>(py: Python<'py>, r: &PrepareReport) -> PyResult<Bound<'py, PyDict>> {
    record_to_py(py, &r.fields(), &mut LastError::default())
}

/// What a call produced, turned into Python values once the GIL is held (on the waiting
/// thread for blocking calls, by the event loop's `drain` for async ones).
pub enum Outcome {
    Json(Value),
    Failed(partly::Error),
    /// The SDK itself failed (an answer that could not be converted).
    Internal(String),
}

impl Outcome {
    pub fn from_result<T: serde::Serialize>(r: Result<T, partly::Error>) -> Outcome {
        match r {
            Ok(v) => match serde_json::to_value(&v) {
                Ok(json) => Outcome::Json(json),
                Err(e) => Outcome::Internal(format!("could not convert the answer: {e}")),
            },
            Err(e) => Outcome::Failed(e),
        }
    }

    /// The result of a `*_with_info` call: `{"value": ..., "info": {...}}` with `info`, else the
    /// value alone.
    pub fn from_info<T: serde::Serialize>(r: Result<partly::Response<T>, partly::Error>, info: bool) -> Outcome {
        match r {
            Ok(response) if info => Outcome::from_result(Ok::<_, partly::Error>(response)),
            Ok(response) => Outcome::from_result(Ok::<_, partly::Error>(response.value)),
            Err(e) => Outcome::Failed(e),
        }
    }

    pub fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        match self {
            Outcome::Json(v) => from_json(py, &v),
            Outcome::Failed(e) => Err(error::to_pyerr(py, &e)),
            Outcome::Internal(m) => Err(error::internal(m)),
        }
    }
}
