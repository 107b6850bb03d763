//! How each language names the options a message talks about.
//!
//! The core writes every validation message once, naming options as Rust and Python do
//! (`batch_size`, `api_key`). Node users write `batchSize` and `apiKey`: the Node binding passes
//! each message through [`for_node`], which renames the options of [`OPTIONS`] (whole words
//! only, so `PARTLY_API_KEY` and wire fields of data objects such as `chassis_number` stay).

/// Options whose names differ in Node: `(snake_case, camelCase)`, each an option Node takes (a
/// Rust-only setting such as `max_response_bytes` stays as it is). Data objects keep the wire's
/// snake_case names in every language, so wire fields are not listed.
pub const OPTIONS: &[(&str, &str)] = &[
    ("api_key", "apiKey"),
    ("integration_id", "integrationId"),
    ("base_url", "baseUrl"),
    ("max_retries", "maxRetries"),
    ("batch_size", "batchSize"),
    ("max_concurrency", "maxConcurrency"),
    ("max_rate", "maxRate"),
    ("on_progress", "onProgress"),
    ("prepare_all", "prepareAll"),
    ("if_exists", "ifExists"),
    ("access_code", "accessCode"),
    ("client_id", "clientId"),
    ("client_secret", "clientSecret"),
    ("redirect_url", "redirectUrl"),
    ("expected_state", "expectedState"),
    ("allow_insecure_http", "allowInsecureHttp"),
    ("ca_bundle", "caBundle"),
    ("log_level", "logLevel"),
    // Functions named in messages.
    ("authorize_url", "authorizeUrl"),
    ("verify_state", "verifyState"),
    ("parse_callback", "parseCallback"),
];

/// `snake_case` -> `camelCase`.
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` with the options of [`OPTIONS`] named as a Node user writes them.
pub fn for_node(text: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        let boundary_before = out.chars().last().is_none_or(|c| !word(c));
        if boundary_before {
            for (snake, node) in OPTIONS {
                if let Some(after) = rest.strip_prefix(snake) {
                    if after.chars().next().is_none_or(|c| !word(c)) {
                        out.push_str(node);
                        rest = after;
                        continue 'outer;
                    }
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_whole_words_only() {
        assert_eq!(for_node("batch_size must be 1 to 100"), "batchSize must be 1 to 100");
        assert_eq!(
            for_node("pass api_key and integration_id, or set PARTLY_API_KEY"),
            "pass apiKey and integrationId, or set PARTLY_API_KEY"
        );
        assert_eq!(for_node("identifiers[0]: chassis_number is empty"), "identifiers[0]: chassis_number is empty");
        assert_eq!(for_node("my_api_key api_keys"), "my_api_key api_keys");
        assert_eq!(camel("trace_id"), "traceId");
    }
}
