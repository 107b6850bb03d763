//! The OAuth install end to end against partly-mock's authorize page, as an integrator's server
//! sees it: the SDK's authorize URL (pointed at the mock), the page's redirect read by
//! `parse_callback` (the state checked), then `integrations.insert` with the code.

mod common;

use partly::{oauth, ErrorKind, InstallRequest, JobIdentity};
use partly_mock::{MockConfig, MockServer, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_JOB_EXTERNAL_ID};

const CALLBACK: &str = "http://127.0.0.1:5999/partly/callback";

/// What a browser does on the consent page: load it, press `decision`; the Location it is sent to.
async fn press(url: &str, decision: &str) -> String {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(url).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"consent\" value=\"";
    let at = page.find(marker).expect("a consent form") + marker.len();
    let consent = page[at..].split('"').next().unwrap();
    let endpoint = url.split('?').next().unwrap();
    let answer = browser
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("consent={consent}&decision={decision}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    answer.headers()["location"].to_str().unwrap().to_owned()
}

async fn mock() -> MockServer {
    MockServer::start(MockConfig { redirect_urls: vec![CALLBACK.into()], ..Default::default() }).await.unwrap()
}

#[tokio::test]
async fn approve_then_install_then_call_with_the_new_key() {
    let mock = mock().await;
    // The endpoint option takes the mock's URL as it is (the authorize path is added) or the page's.
    for endpoint in [mock.url(), mock.authorize_endpoint()] {
        let auth = oauth::authorize_url_at(&endpoint, DEMO_CLIENT_ID, CALLBACK, &["repairer"]).unwrap();
        assert!(auth.url.starts_with(&mock.authorize_endpoint()), "{}", auth.url);
        let back = press(&auth.url, "approve").await;
        assert!(back.starts_with(CALLBACK), "{back}");
        let callback = oauth::parse_callback(&back, &auth.state).unwrap();
        let code = callback.code.expect("a code");
        let client = common::builder(&mock).build().unwrap();
        let installed = client
            .integrations()
            .insert(InstallRequest::new(code.expose(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET))
            .await
            .unwrap();
        let installed_client = common::builder(&mock)
            .api_key(installed.api_key.expose())
            .integration_id(installed.integration_id.to_string())
            .build()
            .unwrap();
        let job = installed_client.jobs().get(JobIdentity::external(DEMO_JOB_EXTERNAL_ID)).await.unwrap();
        assert_eq!(job.external_id.as_deref(), Some(DEMO_JOB_EXTERNAL_ID));
        // Replaying the code is the API's error.
        let replay = client
            .integrations()
            .insert(InstallRequest::new(code.expose(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET))
            .await
            .unwrap_err();
        assert_eq!(replay.kind(), ErrorKind::BadRequest);
        assert_eq!(replay.code(), Some("invalid_access_code"));
        assert!(!replay.to_string().contains(code.expose()));
    }
}

#[tokio::test]
async fn deny_and_a_tampered_state() {
    let mock = mock().await;
    let auth = oauth::authorize_url_at(&mock.url(), DEMO_CLIENT_ID, CALLBACK, &["repairer"]).unwrap();
    let back = press(&auth.url, "deny").await;
    let callback = oauth::parse_callback(&back, &auth.state).unwrap();
    assert!(callback.denied() && callback.code.is_none());

    let auth = oauth::authorize_url_at(&mock.url(), DEMO_CLIENT_ID, CALLBACK, &["repairer"]).unwrap();
    let back = press(&auth.url, "approve").await;
    let other = oauth::generate_state().unwrap();
    let err = oauth::parse_callback(&back, &other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(err.message().contains("does not match"), "{err}");
    assert!(mock.requests().iter().all(|r| r.method != "integrations.insert"), "nothing traded");
}
