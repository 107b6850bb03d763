//! The answer a method gives before it becomes an HTTP response.

use bytes::Bytes;
use hyper::StatusCode;
use serde::Serialize;

/// What the body of an answer is, which decides its `content-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `content-type: application/json`.
    Json,
    /// A framework error: plain text or empty, with no content type (partly-api.md §4).
    Bare,
}

#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    pub(crate) kind: Kind,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

impl Answer {
    /// 200 with `value` as JSON.
    pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Answer {
        match serde_json::to_vec(value) {
            Ok(body) => Answer { status: StatusCode::OK, body: Bytes::from(body), kind: Kind::Json },
            // Our own types always serialize; answer like a server with a bug would.
            Err(e) => {
                Answer::text(StatusCode::INTERNAL_SERVER_ERROR, format!("Failed to serialize response body: {e}"))
            }
        }
    }

    /// 200 with a fixed JSON body.
    pub(crate) fn json_static(body: &'static [u8]) -> Answer {
        Answer { status: StatusCode::OK, body: Bytes::from_static(body), kind: Kind::Json }
    }

    /// An application error: `{"type": kind, "message": message}` as JSON.
    pub(crate) fn error(status: StatusCode, kind: &str, message: &str) -> Answer {
        let body = serde_json::to_vec(&ErrorBody { kind, message }).unwrap_or_default();
        Answer { status, body: Bytes::from(body), kind: Kind::Json }
    }

    /// A framework error: plain text, no content type.
    pub(crate) fn text(status: StatusCode, message: String) -> Answer {
        Answer { status, body: Bytes::from(message), kind: Kind::Bare }
    }

    /// An empty body, no content type (404 / 405).
    pub(crate) fn empty(status: StatusCode) -> Answer {
        Answer { status, body: Bytes::new(), kind: Kind::Bare }
    }
}
