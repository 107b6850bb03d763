//! The OAuth authorize page: consent, Approve and Deny redirects, single-use codes and consent
//! pages, error pages (never a redirect) for unknown clients and unregistered redirect URLs,
//! and the registration of redirect URLs (config, control route, handle, binary).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use partly_mock::*;
use serde_json::json;
use url::Url;

const CALLBACK: &str = "http://127.0.0.1:5999/partly/callback?tenant=7";

async fn start_with(redirect_urls: &[&str]) -> MockServer {
    let config =
        MockConfig { redirect_urls: redirect_urls.iter().map(|u| u.to_string()).collect(), ..Default::default() };
    MockServer::start(config).await.expect("mock starts")
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn authorize_link(server: &MockServer, params: &[(&str, &str)]) -> String {
    let mut url = Url::parse(&server.authorize_endpoint()).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.into()
}

fn good_params(state: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", DEMO_CLIENT_ID.to_owned()),
        ("state", state.to_owned()),
        ("scopes", r#"["repairer"]"#.to_owned()),
        ("redirect_url", CALLBACK.to_owned()),
    ]
}

async fn get(client: &reqwest::Client, url: &str) -> Reply {
    reply(client.get(url).send().await.unwrap()).await
}

async fn post_form(client: &reqwest::Client, server: &MockServer, form: &str) -> Reply {
    let resp = client
        .post(server.authorize_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    reply(resp).await
}

/// The consent id in the page's form.
fn consent_id(page: &Reply) -> String {
    let marker = "name=\"consent\" value=\"";
    let at = page.text.find(marker).unwrap_or_else(|| panic!("no consent form in {}", page.text)) + marker.len();
    page.text[at..].split('"').next().unwrap().to_owned()
}

/// The query of the redirect's Location, after checking it goes to `CALLBACK`.
fn redirected(r: &Reply) -> HashMap<String, String> {
    assert_eq!(r.status, 303, "{r:?}");
    let location = Url::parse(r.header("location").expect("a Location")).unwrap();
    assert_eq!(location.as_str().split('?').next(), CALLBACK.split('?').next());
    let q: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(q.first(), Some(&("tenant".to_owned(), "7".to_owned())), "the registered query is kept");
    q.into_iter().collect()
}

fn assert_error_page(r: &Reply, status: u16, says: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert!(r.header("location").is_none(), "an error page, never a redirect: {r:?}");
    assert_eq!(r.content_type(), Some("text/html; charset=utf-8"));
    assert!(r.text.contains(says), "{says:?} not in {}", r.text);
}

async fn trade(client: &reqwest::Client, server: &MockServer, code: &str) -> Reply {
    let body = json!({"access_code": code, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET});
    call_anon(client, server, "integrations.insert", &body).await
}

#[tokio::test]
async fn approve_redirects_with_a_single_use_code_and_the_same_state() {
    let server = start_with(&[CALLBACK]).await;
    let browser = no_redirects();
    let page = get(
        &browser,
        &authorize_link(&server, &good_params("st-1").iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()),
    )
    .await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    for shown in [DEMO_INTEGRATION_NAME, "<code>repairer</code>", ">Approve<", ">Deny<", "127.0.0.1"] {
        assert!(page.text.contains(shown), "{shown:?} not on the consent page");
    }
    assert!(!page.text.contains("st-1"), "the state stays on the server, not in the form");

    let consent = consent_id(&page);
    let back = redirected(&post_form(&browser, &server, &format!("consent={consent}&decision=approve")).await);
    assert_eq!(back["state"], "st-1");
    let code = &back["code"];
    assert!(!back.contains_key("error"));

    // The code trades once; a replay is refused.
    let api = reqwest::Client::new();
    let installed = trade(&api, &server, code).await;
    assert_eq!(installed.status, 200, "{installed:?}");
    assert!(installed.json()["api_key"].as_str().is_some_and(|k| !k.is_empty()));
    trade(&api, &server, code).await.assert_error(400, "invalid_access_code");

    // The consent page answers once: a second Approve gets an error page and no new code.
    let again = post_form(&browser, &server, &format!("consent={consent}&decision=approve")).await;
    assert_error_page(&again, 400, "expired");

    // Each attempt gets a fresh code.
    let page = get(
        &browser,
        &authorize_link(&server, &good_params("st-2").iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()),
    )
    .await;
    let back2 =
        redirected(&post_form(&browser, &server, &format!("consent={}&decision=approve", consent_id(&page))).await);
    assert_eq!(back2["state"], "st-2");
    assert_ne!(&back2["code"], code);

    // The page's requests are in the log, under the page's path, with no API method name.
    let log = server.requests();
    let page_hits: Vec<_> = log.iter().filter(|r| r.path == AUTHORIZE_PATH).collect();
    assert_eq!(
        page_hits.iter().map(|r| r.http_method.as_str()).collect::<Vec<_>>(),
        ["GET", "POST", "POST", "GET", "POST"]
    );
    assert!(page_hits.iter().all(|r| r.method.is_empty()));
    assert_eq!(
        page_hits.iter().map(|r| r.status).collect::<Vec<_>>(),
        [Some(200), Some(303), Some(400), Some(200), Some(303)]
    );
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_no_code() {
    let server = start_with(&[CALLBACK]).await;
    let browser = no_redirects();
    let params = good_params("st-deny");
    let page =
        get(&browser, &authorize_link(&server, &params.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()))
            .await;
    let back = redirected(&post_form(&browser, &server, &format!("consent={}&decision=deny", consent_id(&page))).await);
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "st-deny");
    assert!(back["error_description"].contains("declined"));
    assert!(!back.contains_key("code"));
    assert!(server.requests().iter().all(|r| r.method != "integrations.insert"));
}

#[tokio::test]
async fn unknown_clients_and_unregistered_redirects_get_an_error_page_never_a_redirect() {
    let server = start_with(&[CALLBACK]).await;
    let browser = no_redirects();
    let with = |key: &'static str, value: &str| {
        let mut p = good_params("st");
        p.retain(|(k, _)| *k != key);
        if !value.is_empty() {
            p.push((key, value.to_owned()));
        }
        authorize_link(&server, &p.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
    };
    assert_error_page(&get(&browser, &with("client_id", "someone-else")).await, 400, "someone-else");
    assert_error_page(&get(&browser, &with("client_id", "")).await, 400, "no `client_id`");
    assert_error_page(
        &get(&browser, &with("redirect_url", "https://evil.example/steal")).await,
        400,
        "not a redirect URL registered",
    );
    // Exact match only: a trailing slash, another port or another query is another URL.
    for near in [
        "http://127.0.0.1:5999/partly/callback/?tenant=7",
        "http://127.0.0.1:6000/partly/callback?tenant=7",
        "http://127.0.0.1:5999/partly/callback",
    ] {
        assert_error_page(&get(&browser, &with("redirect_url", near)).await, 400, "not a redirect URL registered");
    }
    assert_error_page(&get(&browser, &with("redirect_url", "")).await, 400, "no `redirect_url`");
    // Markup in a parameter is shown as text.
    let r = get(&browser, &with("client_id", "<script>alert(1)</script>")).await;
    assert_error_page(&r, 400, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert!(!r.text.contains("<script>"));
    // A consent id that was never issued.
    assert_error_page(&post_form(&browser, &server, "consent=forged&decision=approve").await, 400, "expired");
    // Other methods.
    let put = browser.put(server.authorize_endpoint()).send().await.unwrap();
    assert_eq!(put.status(), 405);
}

#[tokio::test]
async fn other_problems_go_back_to_the_registered_url_as_oauth_errors() {
    let server = start_with(&[CALLBACK]).await;
    let browser = no_redirects();
    let link = |scopes: &str, state: &str| {
        let mut p = vec![("client_id", DEMO_CLIENT_ID), ("scopes", scopes), ("redirect_url", CALLBACK)];
        if !state.is_empty() {
            p.push(("state", state));
        }
        authorize_link(&server, &p)
    };
    let back = redirected(&get(&browser, &link(r#"["repairer"]"#, "")).await);
    assert_eq!(back["error"], "invalid_request");
    assert!(!back.contains_key("state"));
    let back = redirected(&get(&browser, &link("repairer", "s")).await);
    assert_eq!((back["error"].as_str(), back["state"].as_str()), ("invalid_request", "s"));
    let back = redirected(&get(&browser, &link("[]", "s")).await);
    assert_eq!(back["error"], "invalid_request");
    let back = redirected(&get(&browser, &link(r#"["repairer","admin"]"#, "s")).await);
    assert_eq!((back["error"].as_str(), back["state"].as_str()), ("invalid_scope", "s"));
    assert!(back["error_description"].contains("admin"));
    let page = get(&browser, &link(r#"["repairer","supplier"]"#, "s")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<code>supplier</code>"));
}

#[tokio::test]
async fn redirect_urls_are_registered_by_config_control_route_and_handle() {
    let server = start().await;
    assert!(server.redirect_urls().is_empty());
    let browser = no_redirects();
    let params = good_params("s");
    let link = authorize_link(&server, &params.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
    assert_error_page(&get(&browser, &link).await, 400, "Registered: none yet");

    let control = format!("{}/__mock/redirect_urls", server.url());
    let r = reply(browser.post(&control).body(json!({"url": CALLBACK}).to_string()).send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), json!({"redirect_urls": [CALLBACK]}));
    assert_eq!(get(&browser, &link).await.status, 200);

    let bad = reply(browser.post(&control).body(json!({"url": "/relative"}).to_string()).send().await.unwrap()).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("not an absolute http(s) URL"), "{bad:?}");
    let bad = reply(browser.post(&control).body("{}").send().await.unwrap()).await;
    assert_eq!(bad.status, 400);

    server.register_redirect_url("https://shop.example/cb").unwrap();
    server.register_redirect_url("https://shop.example/cb").unwrap();
    assert!(server.register_redirect_url("shop.example/cb").is_err());
    let listed = reply(browser.get(&control).send().await.unwrap()).await;
    assert_eq!(listed.json(), json!({"redirect_urls": [CALLBACK, "https://shop.example/cb"]}));

    // reset keeps them (configuration), drops unanswered consent pages.
    let page = get(&browser, &link).await;
    server.reset();
    assert_eq!(server.redirect_urls().len(), 2);
    let r = post_form(&browser, &server, &format!("consent={}&decision=approve", consent_id(&page))).await;
    assert_error_page(&r, 400, "expired");

    let err =
        MockServer::start(MockConfig { redirect_urls: vec!["nope".into()], ..Default::default() }).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn the_binary_takes_redirect_urls() {
    let bad = Command::new(env!("CARGO_BIN_EXE_partly-mock")).args(["--redirect-url", "nope"]).output().unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--redirect-url") && stderr.contains("not an absolute http(s) URL"), "{stderr}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_partly-mock"))
        .args(["--port", "0", "--redirect-url", CALLBACK, "--redirect-url", "https://shop.example/cb"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    let listed = reqwest::get(format!("{url}/__mock/redirect_urls")).await.map(reply);
    let _ = child.kill();
    let _ = child.wait();
    let listed = listed.unwrap().await;
    assert_eq!(listed.json(), json!({"redirect_urls": [CALLBACK, "https://shop.example/cb"]}));
}
