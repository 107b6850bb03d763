//! Entry points for the fuzz targets (`fuzz/`) and the property tests: the whole response path
//! without a network. Not part of the public API.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::client::{api_error, decode, Answer};
use crate::error::ErrorKind;
use crate::methods;
use crate::models::{InstallResponse, Job, PrepareResponse};
use crate::retry::parse_retry_after;
use crate::scrub::{Scrubber, WINDOW};
use crate::secret::Secret;

/// Runs one answer (status, headers, body bytes) through the response path of every model and
/// checks the invariants: no panic, the right error class for the status, the raw text kept,
/// and `secret` (the API key) nowhere in what an error shows.
pub fn response(status: u16, headers: &[(Vec<u8>, Vec<u8>)], body: &[u8], secret: &str) -> Result<(), String> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k), HeaderValue::from_bytes(v)) {
            map.append(k, v);
        }
    }
    let key = Secret::new(secret);
    let scrubber = Scrubber::new([&key]);
    // What a leak check looks for: any 16-character piece of the secret (all of it if shorter).
    let chars: Vec<char> = secret.chars().collect();
    let pieces: Vec<String> = if chars.len() <= WINDOW {
        vec![secret.to_string()]
    } else {
        chars.windows(WINDOW).map(|w| w.iter().collect()).collect()
    };
    let check_text = |what: &str, text: &str| -> Result<(), String> {
        if secret.len() >= 4 && pieces.iter().any(|p| text.contains(p.as_str())) {
            Err(format!("{what} shows the secret: {text:?}"))
        } else {
            Ok(())
        }
    };
    let check_error = |e: &crate::Error| -> Result<(), String> {
        check_text("message", &e.to_string())?;
        check_text("debug", &format!("{e:?}"))?;
        for (what, field) in [("body", e.body()), ("code", e.code()), ("request_id", e.request_id())] {
            check_text(what, field.unwrap_or(""))?;
        }
        Ok(())
    };
    let retry_after = parse_retry_after(&map);
    if !(200..300).contains(&status) {
        let e = api_error(status, &map, body, retry_after, &scrubber);
        if e.kind() != ErrorKind::from_status(status) {
            return Err(format!("status {status} gave {:?}", e.kind()));
        }
        return check_error(&e);
    }
    let answer = Answer::for_fuzzing(status, map, body);
    fn one<T: serde::de::DeserializeOwned>(
        answer: &Answer,
        spec: methods::Method,
        scrubber: &Scrubber,
    ) -> Result<Option<crate::Error>, String> {
        match decode::<T>("fuzz", spec, answer, scrubber) {
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::Decode => Ok(Some(e)),
            Err(e) => Err(format!("a 2xx gave {:?}", e.kind())),
        }
    }
    for e in [
        one::<Job>(&answer, methods::JOBS_GET, &scrubber)?,
        one::<InstallResponse>(&answer, methods::INTEGRATIONS_INSERT, &scrubber)?,
        one::<PrepareResponse>(&answer, methods::TIER1_PREPARE, &scrubber)?,
        one::<serde_json::Value>(&answer, methods::JOBS_GET, &scrubber)?,
    ]
    .into_iter()
    .flatten()
    {
        check_error(&e)?;
    }
    Ok(())
}

/// Reads JSON into each request-side model the bindings build from user input, checking that
/// nothing panics and that every failure is a validation error.
pub fn inputs(json: &[u8]) -> Result<(), String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(json) else { return Ok(()) };
    let check = |r: Result<(), crate::Error>| match r {
        Err(e) if e.kind() != ErrorKind::Validation => Err(format!("input gave {:?}", e.kind())),
        _ => Ok(()),
    };
    check(crate::models::VehicleIdentifier::from_json(v.clone()).and_then(|id| id.validate()))?;
    check(crate::models::JobData::from_json(v.clone()).map(|_| ()))?;
    if let Some(s) = v.as_str() {
        check(crate::models::JobIdentity::from_parts(Some(s), None).map(|_| ()))?;
        check(crate::models::IfExists::parse(s).map(|_| ()))?;
        check(crate::config::parse_base_url(s, "base_url", false).map(|_| ()))?;
    }
    Ok(())
}

/// The secret the fuzz inputs try to leak: bodies that contain it must not show it.
pub const FUZZ_SECRET: &str = "pk_live_FUZZSECRET";

/// Splits a fuzz input into an answer: two bytes of status (mapped onto 100..=599), header
/// lines `name: value` up to a blank line, then the body. Seeds are readable text files.
pub fn response_from_bytes(data: &[u8]) -> Result<(), String> {
    if data.len() < 2 {
        return Ok(());
    }
    let status = 100 + u16::from_be_bytes([data[0], data[1]]) % 500;
    let rest = &data[2..];
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&rest[..0], rest),
    };
    let headers: Vec<(Vec<u8>, Vec<u8>)> = head
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let i = line.iter().position(|b| *b == b':')?;
            let v = &line[i + 1..];
            let v = v.strip_prefix(b" ").unwrap_or(v);
            Some((line[..i].to_vec(), v.to_vec()))
        })
        .collect();
    response(status, &headers, body, FUZZ_SECRET)
}
