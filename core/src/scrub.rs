//! The one scrubbing step. Every error field, every log record and every printed form of an
//! error is made from text that went through [`Scrubber::scrub`] first, and anything cut to a
//! length limit is cut after it (so a secret straddling the cut cannot leave a piece behind).
//!
//! What counts as showing a secret (API key, client secret, access code, and any secret a
//! response carries, such as the `api_key` of an install answer):
//! - the whole secret (secrets of 4 characters or more), or
//! - any run of [`WINDOW`] or more characters that is a piece of it (a secret cut off by a
//!   broken connection, or half of one), and
//! - both of those in the text as written and in the text decoded, where it carries escapes:
//!   JSON string escapes (`\u005f`, `\/`, ...), percent-encoding (`%5F`) and numeric HTML
//!   character references (`&#95;`), so that parsing a body cannot reveal what the raw text hid.
//!
//! Each match is replaced with `***`.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::secret::Secret;

/// The shortest piece of a secret that is scrubbed on its own (and the window a leak check
/// looks for).
pub const WINDOW: usize = 16;

/// How much text beyond a length limit is scrubbed before the cut, so that a secret (even
/// written with JSON escapes, 6 bytes a character) straddling the limit is found whole.
pub(crate) const MARGIN: usize = 4096;

const MASK: &str = "***";

/// The secrets of one call and what to replace them with.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    secrets: Vec<Secret>,
}

impl Scrubber {
    /// A scrubber for these secrets (shorter than 4 bytes: ignored, they would mask noise).
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Scrubber {
        let mut s = Scrubber::default();
        for secret in secrets {
            s.add(secret.clone());
        }
        s
    }

    /// Adds a secret (one found in a response, for example).
    pub(crate) fn add(&mut self, secret: Secret) {
        if secret.expose().len() >= 4 && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
        }
    }

    /// `text` with every secret, piece of a secret, and escaped form of either replaced.
    pub(crate) fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.secrets.is_empty() || text.len() < 4 {
            return Cow::Borrowed(text);
        }
        let raw = text.as_bytes();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for secret in &self.secrets {
            find(raw, secret.expose().as_bytes(), &mut |a, b| ranges.push((a, b)));
        }
        if raw.iter().any(|&c| c == b'\\' || c == b'%' || c == b'&') {
            let view = Decoded::of(text);
            if view.bytes.len() != raw.len() {
                for secret in &self.secrets {
                    find(&view.bytes, secret.expose().as_bytes(), &mut |a, b| {
                        ranges.push((view.spans[a].0, view.spans[b - 1].1))
                    });
                }
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (mut a, mut b) in ranges {
            while !text.is_char_boundary(a) {
                a -= 1;
            }
            while !text.is_char_boundary(b) {
                b += 1;
            }
            if b <= pos {
                continue;
            }
            // A match overlapping the previous one extends its mask.
            if a >= pos {
                out.push_str(&text[pos..a]);
                out.push_str(MASK);
            }
            pos = b;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }

    /// Scrubs `text` and cuts the result to at most `max` bytes (marking the cut), scrubbing
    /// only what can reach the kept part: the first `max` + [`MARGIN`] bytes.
    #[cfg(test)]
    pub(crate) fn bounded(&self, text: &str, max: usize) -> String {
        self.bounded_of(text, max, text.len())
    }

    /// [`Scrubber::bounded`] of a text that is the start of one `total` bytes long.
    pub(crate) fn bounded_of(&self, text: &str, max: usize, total: usize) -> String {
        let mut end = text.len().min(max.saturating_add(MARGIN));
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let clean = self.scrub(&text[..end]);
        crate::error::truncate_text_of(&clean, max, total.max(clean.len()))
    }
}

/// Calls `hit(start, end)` for every occurrence of `secret` in `hay` and every run of
/// [`WINDOW`] or more bytes of `hay` that is a piece of `secret`.
fn find(hay: &[u8], secret: &[u8], hit: &mut impl FnMut(usize, usize)) {
    if secret.len() < 4 || hay.len() < secret.len().min(WINDOW) {
        return;
    }
    if secret.len() <= WINDOW {
        let mut i = 0;
        while let Some(j) = memmem(&hay[i..], secret) {
            hit(i + j, i + j + secret.len());
            i += j + 1;
        }
        return;
    }
    let windows: HashSet<&[u8]> = secret.windows(WINDOW).collect();
    let first: [bool; 256] = {
        let mut f = [false; 256];
        for w in &windows {
            f[w[0] as usize] = true;
        }
        f
    };
    let mut i = 0;
    while i + WINDOW <= hay.len() {
        if first[hay[i] as usize] && windows.contains(&hay[i..i + WINDOW]) {
            // Extend over every following window that also matches.
            let start = i;
            let mut end = i + WINDOW;
            while end < hay.len() && windows.contains(&hay[end + 1 - WINDOW..end + 1]) {
                end += 1;
            }
            hit(start, end);
            i = end - WINDOW + 1;
        } else {
            i += 1;
        }
    }
}

fn memmem(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Text with its escapes decoded, each decoded byte knowing the span of raw text it came from.
struct Decoded {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Decoded {
    fn of(text: &str) -> Decoded {
        let raw = text.as_bytes();
        let mut d = Decoded { bytes: Vec::with_capacity(raw.len()), spans: Vec::with_capacity(raw.len()) };
        let mut i = 0;
        while i < raw.len() {
            if let Some((c, len)) = decode_escape(&raw[i..]) {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    d.bytes.push(b);
                    d.spans.push((i, i + len));
                }
                i += len;
            } else if raw[i] == b'%' && i + 2 < raw.len() {
                match (hex(raw[i + 1]), hex(raw[i + 2])) {
                    (Some(h), Some(l)) => {
                        d.bytes.push(h * 16 + l);
                        d.spans.push((i, i + 3));
                        i += 3;
                    }
                    _ => {
                        d.bytes.push(raw[i]);
                        d.spans.push((i, i + 1));
                        i += 1;
                    }
                }
            } else {
                d.bytes.push(raw[i]);
                d.spans.push((i, i + 1));
                i += 1;
            }
        }
        d
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn hex4(s: &[u8]) -> Option<u32> {
    if s.len() < 4 {
        return None;
    }
    s[..4].iter().try_fold(0u32, |acc, &c| hex(c).map(|d| acc * 16 + u32::from(d)))
}

/// A JSON string escape or a numeric HTML character reference at the start of `s`: the
/// character and the escape's length.
fn decode_escape(s: &[u8]) -> Option<(char, usize)> {
    match s {
        [b'\\', b'u', rest @ ..] => {
            let hi = hex4(rest)?;
            if (0xD800..0xDC00).contains(&hi) {
                if let [b'\\', b'u', low @ ..] = rest.get(4..)? {
                    if let Some(lo) = hex4(low).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return char::from_u32(c).map(|c| (c, 12));
                    }
                }
                return Some(('\u{FFFD}', 6));
            }
            Some((char::from_u32(hi).unwrap_or('\u{FFFD}'), 6))
        }
        [b'\\', c, ..] => {
            let decoded = match c {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                _ => return None,
            };
            Some((decoded, 2))
        }
        [b'&', b'#', rest @ ..] => {
            let (radix, digits) = match rest {
                [b'x' | b'X', d @ ..] => (16, d),
                d => (10, d),
            };
            let n = digits.iter().take(8).take_while(|c| (**c as char).is_digit(radix)).count();
            if n == 0 || digits.get(n) != Some(&b';') {
                return None;
            }
            let value = u32::from_str_radix(std::str::from_utf8(&digits[..n]).ok()?, radix).ok()?;
            let len = 2 + (rest.len() - digits.len()) + n + 1;
            char::from_u32(value).map(|c| (c, len))
        }
        _ => None,
    }
}

/// The values of `field` in JSON text, even when the text is not valid JSON or is cut off:
/// every `"field"` key followed by `:` and a string (decoded; up to where the text ends when
/// the string is not closed). Used to find the secrets an answer itself carries.
pub(crate) fn string_field_values(text: &str, field: &str) -> Vec<String> {
    let key = format!("\"{field}\"");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&key) {
        rest = &rest[i + key.len()..];
        let after = rest.trim_start();
        let Some(after) = after.strip_prefix(':') else { continue };
        let after = after.trim_start();
        let Some(body) = after.strip_prefix('"') else { continue };
        let raw = body.as_bytes();
        let mut value = String::new();
        let mut j = 0;
        while j < raw.len() && raw[j] != b'"' {
            if raw[j] == b'\\' {
                match decode_escape(&raw[j..]) {
                    Some((c, len)) => {
                        value.push(c);
                        j += len;
                    }
                    None => break,
                }
            } else {
                let ch_len = body[j..].chars().next().map_or(1, char::len_utf8);
                value.push_str(&body[j..j + ch_len]);
                j += ch_len;
            }
        }
        if !value.is_empty() {
            out.push(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "pk_demo_7c1f0e5a2b9d4c83a6e15f0b9d2c4e71";

    fn scrub(text: &str) -> String {
        Scrubber::new([&Secret::new(KEY)]).scrub(text).into_owned()
    }

    #[test]
    fn whole_pieces_and_escaped_forms() {
        assert_eq!(scrub(&format!("key {KEY} revoked")), "key *** revoked");
        assert_eq!(scrub("nothing here"), "nothing here");
        // A piece of 16+ characters (a key cut off by the connection).
        assert_eq!(scrub(&format!("{{\"k\":\"{}", &KEY[..30])), "{\"k\":\"***");
        assert_eq!(scrub(&format!("…{}", &KEY[20..])), "…***");
        // 15 characters of it are not a leak on their own.
        assert_eq!(scrub(&KEY[..15]), &KEY[..15]);
        // JSON escapes, all characters or some.
        let escaped: String = KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        assert_eq!(scrub(&format!("{{\"message\":\"key {escaped} revoked\"}}")), "{\"message\":\"key *** revoked\"}");
        assert_eq!(scrub(&KEY.replace('_', "\\u005F")), "***");
        assert_eq!(scrub(&KEY.replace('_', "%5f")), "***");
        assert_eq!(scrub(&KEY.replace('_', "&#95;")), "***");
        assert_eq!(scrub(&KEY.replace('_', "&#x5F;")), "***");
        // Twice, and next to multibyte text.
        assert_eq!(scrub(&format!("é{KEY}é{KEY}")), "é***é***");
    }

    #[test]
    fn short_secrets_only_whole() {
        let s = Scrubber::new([&Secret::new("ac_123456")]);
        assert_eq!(s.scrub("code ac_123456 used"), "code *** used");
        assert_eq!(s.scrub("ac_1234"), "ac_1234");
        assert_eq!(Scrubber::new([&Secret::new("abc")]).scrub("abc"), "abc", "under 4 bytes: ignored");
    }

    #[test]
    fn scrubbed_before_the_cut() {
        let text = format!("{}{KEY}{}", "x".repeat(8172), "y".repeat(100));
        let kept = Scrubber::new([&Secret::new(KEY)]).bounded(&text, 8192);
        assert!(!kept.contains(&KEY[..16]) && !kept.contains("pk_demo"), "{}", &kept[8100..]);
        assert!(kept.contains("x***y"), "{}", &kept[8100..]);
        assert!(kept.contains(&format!("{} bytes in all", text.len())), "{}", &kept[8100..]);
    }

    #[test]
    fn field_values_even_when_cut_off() {
        assert_eq!(string_field_values(r#"{"api_key": "pk_a\u005fb", "x": 1}"#, "api_key"), vec!["pk_a_b"]);
        assert_eq!(string_field_values(r#"{"api_key":"pk_live_9f8e7d"#, "api_key"), vec!["pk_live_9f8e7d"]);
        assert!(string_field_values(r#"{"api_key":5}"#, "api_key").is_empty());
    }
}
