//! JSON numbers, lossless. The client reads every number as the text the server wrote
//! (`serde_json`'s `arbitrary_precision`), so a `1e400` or a 30-digit integer in an unknown
//! field neither fails the decode nor changes; this module says how each language can hold a
//! number without losing it, so the bindings only translate:
//!
//! - [`number_form`]: an integer (64-bit, or its text when wider), a float that holds it, or
//!   its decimal text (Python: `int`, `float`, `decimal.Decimal`);
//! - [`exact_f64`]: the double that holds it, if one does (Node: a `number`, else a
//!   `LosslessNumber` keeping the text).
//!
//! A double *holds* a number when the double, written in its shortest form (as Rust, Python
//! and JavaScript print it), is the same decimal number: `0.1` is held by the double `0.1`;
//! `9007199254740993`, `3.14159265358979323846` and `1e400` are not held by any double.
//!
//! For a binding that crosses results as JSON text for its language's own parser, whose
//! numbers are doubles (Node's `JSON.parse`), [`mark_inexact`] writes each number no double
//! holds as a marked string, and [`unmark`] reads such text back (see [`MARK`]).

use serde_json::{Number, Value};

/// How a JSON number can be kept exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NumberForm<'a> {
    /// An integer that fits `i64`.
    I64(i64),
    /// An integer that fits `u64` but not `i64`.
    U64(u64),
    /// An integer wider than 64 bits, as its decimal text.
    BigInt(&'a str),
    /// A number with a fraction or an exponent that a double holds.
    F64(f64),
    /// Any other number (beyond a double's range or precision), as its text.
    Decimal(&'a str),
}

/// How `n` can be kept exactly (see [`NumberForm`]).
pub fn number_form(n: &Number) -> NumberForm<'_> {
    if let Some(i) = n.as_i64() {
        return NumberForm::I64(i);
    }
    if let Some(u) = n.as_u64() {
        return NumberForm::U64(u);
    }
    let text = n.as_str();
    if is_integer_text(text) {
        return NumberForm::BigInt(text);
    }
    match held_by_f64(text) {
        Some(f) => NumberForm::F64(f),
        None => NumberForm::Decimal(text),
    }
}

/// The double that holds `n` exactly (integers included: up to 2^53, and beyond only where
/// the double prints as the same integer), or `None`.
pub fn exact_f64(n: &Number) -> Option<f64> {
    held_by_f64(n.as_str())
}

/// A number from its text (what a binding gets from an exact type: a wide `int`, a
/// `decimal.Decimal`, a `LosslessNumber`); `None` when the text is not a finite JSON number.
pub fn number_from_text(text: &str) -> Option<Number> {
    let t = text.trim();
    // JSON's grammar, which also refuses `NaN`, `Infinity`, `+1`, `.5` and `1.`.
    serde_json::from_str::<Number>(t).ok()
}

/// Starts JSON text in which [`mark_inexact`] marked numbers, and each marked string in it:
/// `MARK n:<number>` stands for that number, `MARK s:<text>` for a string that itself began
/// with `MARK`. Text not starting with it has nothing marked.
pub const MARK: char = '\u{1}';

/// `json` (compact JSON text, as `serde_json` writes it) with every number no double holds
/// written as the string `MARK n:<number>` (and every string starting with `MARK` as
/// `MARK s:<string>`), the whole text then starting with [`MARK`]; `json` itself when no
/// number needs it, which is the common case and costs one scan.
pub fn mark_inexact(json: String) -> String {
    let bytes = json.as_bytes();
    let mut edits: Vec<(usize, usize, bool)> = Vec::new(); // (start, end, is_number)
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                if bytes[start + 1..].starts_with(b"\\u0001") {
                    edits.push((start, start + 1, false));
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                if !surely_held(&json[start..i]) && held_by_f64(&json[start..i]).is_none() {
                    edits.push((start, i, true));
                }
            }
            _ => i += 1,
        }
    }
    if edits.is_empty() {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 1 + edits.len() * 12);
    out.push(MARK);
    let mut pos = 0;
    for (start, end, is_number) in edits {
        out.push_str(&json[pos..start]);
        if is_number {
            out.push_str("\"\\u0001n:");
            out.push_str(&json[start..end]);
            out.push('"');
        } else {
            out.push_str("\"\\u0001s:");
        }
        pos = end;
    }
    out.push_str(&json[pos..]);
    out
}

/// Reads JSON text that may carry marks (from [`mark_inexact`], or made the same way by the
/// binding's own layer): marked strings become the numbers and strings they stand for.
pub fn unmark(text: &str) -> Result<Value, serde_json::Error> {
    match text.strip_prefix(MARK) {
        None => serde_json::from_str(text),
        Some(rest) => {
            let mut value: Value = serde_json::from_str(rest)?;
            restore(&mut value)?;
            Ok(value)
        }
    }
}

fn restore(value: &mut Value) -> Result<(), serde_json::Error> {
    match value {
        Value::String(s) if s.starts_with(MARK) => {
            let body = &s[MARK.len_utf8()..];
            if let Some(number) = body.strip_prefix("n:") {
                let n = number_from_text(number).ok_or_else(|| {
                    <serde_json::Error as serde::de::Error>::custom(format!("{number:?} is not a JSON number"))
                })?;
                *value = Value::Number(n);
            } else if let Some(text) = body.strip_prefix("s:") {
                *s = text.to_string();
            }
        }
        Value::Array(items) => items.iter_mut().try_for_each(restore)?,
        Value::Object(map) => map.values_mut().try_for_each(restore)?,
        _ => {}
    }
    Ok(())
}

/// A short number of at most 15 significant digits and a modest exponent: every double
/// round-trips such a decimal (they stay in the normal range), so no formatting is needed.
fn surely_held(token: &str) -> bool {
    if token.len() > 32 {
        return false;
    }
    let (mantissa, exponent) = match token.find(['e', 'E']) {
        Some(i) => (&token[..i], token[i + 1..].parse::<i32>().ok()),
        None => (token, Some(0)),
    };
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).skip_while(|d| *d == b'0').count();
    digits <= 15 && exponent.is_some_and(|e| (-290..=290).contains(&e))
}

fn is_integer_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn held_by_f64(text: &str) -> Option<f64> {
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    if surely_held(text) {
        // The common case (`12.345`, `2019`): no formatting needed.
        return Some(f);
    }
    let shortest = format!("{f:e}");
    (decimal_key(&shortest)? == decimal_key(text)?).then_some(f)
}

/// A decimal number's canonical form: sign, significant digits (no leading or trailing
/// zeros) and the exponent of the last digit; zero is `(false, "", 0)`.
fn decimal_key(text: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() || !(int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut digits: String = format!("{int}{frac}");
    let mut exp = exponent.checked_sub(frac.len() as i64)?;
    let lead = digits.bytes().take_while(|b| *b == b'0').count();
    digits.drain(..lead);
    if digits.is_empty() {
        return Some((false, String::new(), 0));
    }
    let trail = digits.bytes().rev().take_while(|b| *b == b'0').count();
    digits.truncate(digits.len() - trail);
    exp = exp.checked_add(trail as i64)?;
    Some((negative, digits, exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        number_from_text(text).unwrap()
    }

    #[test]
    fn forms() {
        assert_eq!(number_form(&n("5")), NumberForm::I64(5));
        assert_eq!(number_form(&n("-5")), NumberForm::I64(-5));
        assert_eq!(number_form(&n("18446744073709551615")), NumberForm::U64(u64::MAX));
        assert_eq!(number_form(&n("18446744073709551616")), NumberForm::BigInt("18446744073709551616"));
        assert_eq!(
            number_form(&n("-123456789012345678901234567890")),
            NumberForm::BigInt("-123456789012345678901234567890")
        );
        assert_eq!(number_form(&n("0.1")), NumberForm::F64(0.1));
        assert_eq!(number_form(&n("1.50")), NumberForm::F64(1.5));
        assert_eq!(number_form(&n("1e2")), NumberForm::F64(100.0));
        assert_eq!(number_form(&n("-0.0")), NumberForm::F64(-0.0));
        // serde_json writes the exponent's sign: the same number, as text.
        assert_eq!(number_form(&n("1e400")), NumberForm::Decimal("1e+400"));
        assert_eq!(number_form(&n("1e-400")), NumberForm::Decimal("1e-400"));
        assert_eq!(number_form(&n("3.14159265358979323846")), NumberForm::Decimal("3.14159265358979323846"));
        assert_eq!(number_form(&n("2.5e-320")), NumberForm::F64(2.5e-320), "a subnormal that prints back the same");
    }

    #[test]
    fn exact_doubles() {
        assert_eq!(exact_f64(&n("9007199254740992")), Some(9007199254740992.0));
        assert_eq!(exact_f64(&n("9007199254740993")), None);
        assert_eq!(exact_f64(&n("1152921504606846976")), None, "2^60 prints as 1152921504606847000 in a double");
        assert_eq!(exact_f64(&n("1e21")), Some(1e21));
        assert_eq!(exact_f64(&n("0.30000000000000004")), Some(0.30000000000000004));
        assert_eq!(exact_f64(&n("0.3000000000000000444")), None);
        assert_eq!(exact_f64(&n("1E400")), None);
    }

    #[test]
    fn marked_text_for_doubles() {
        let plain = r#"{"a":1,"b":0.1,"c":-2.5e-7,"s":"1e400"}"#.to_string();
        assert_eq!(mark_inexact(plain.clone()), plain, "nothing to mark: the text as it is");
        let v: Value = serde_json::from_str(
            r#"{"big":123456789012345678901234567890,"huge":1e400,"ok":[1,2.5],"odd":"\u0001s:x","n":9007199254740993}"#,
        )
        .unwrap();
        let text = serde_json::to_string(&v).unwrap();
        let marked = mark_inexact(text);
        assert!(marked.starts_with(MARK), "{marked}");
        assert_eq!(
            &marked[1..],
            r#"{"big":"\u0001n:123456789012345678901234567890","huge":"\u0001n:1e+400","ok":[1,2.5],"odd":"\u0001s:\u0001s:x","n":"\u0001n:9007199254740993"}"#
        );
        assert_eq!(unmark(&marked).unwrap(), v, "read back, the same value");
        assert_eq!(unmark(r#"{"a":"\u0001n:1"}"#).unwrap()["a"], "\u{1}n:1", "unmarked text is read as it is");
        assert!(unmark(&format!("{MARK}[\"\\u0001n:NaN\"]")).is_err());
    }

    #[test]
    fn text_is_kept() {
        for t in ["1e+400", "123456789012345678901234567890", "3.14159265358979323846", "0.10", "-0"] {
            assert_eq!(n(t).to_string(), t);
            let v: serde_json::Value = serde_json::from_str(&format!("{{\"x\":{t}}}")).unwrap();
            assert_eq!(v.to_string(), format!("{{\"x\":{t}}}"));
        }
        assert!(number_from_text("NaN").is_none());
        assert!(number_from_text("Infinity").is_none());
        assert!(number_from_text("1E+400").is_some(), "Python's str(Decimal('1e400'))");
    }
}
