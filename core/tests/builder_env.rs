//! `Client::builder()` reads `PARTLY_*` as the Python and Node clients do; `builder_without_env`
//! reads none of them. In a process of its own: the variables are process-wide.

mod common;

use partly::{Client, ErrorKind, JobIdentity};
use partly_mock::{DEMO_API_KEY, DEMO_INTEGRATION_ID, DEMO_JOB_EXTERNAL_ID};

// One test: the variables are process-wide.
#[tokio::test]
async fn builder_reads_partly_variables_and_builder_without_env_does_not() {
    let mock = common::mock().await;
    let external = JobIdentity::external(DEMO_JOB_EXTERNAL_ID);
    std::env::set_var("PARTLY_BASE_URL", mock.url());
    std::env::set_var("PARTLY_API_KEY", DEMO_API_KEY);
    std::env::set_var("PARTLY_INTEGRATION_ID", DEMO_INTEGRATION_ID);

    // The environment's host and credentials: the call reaches the mock and succeeds.
    let client = Client::builder().build().unwrap();
    assert_eq!(client.config().base_url().as_str().trim_end_matches('/'), mock.url().trim_end_matches('/'));
    let job = client.jobs().get(external.clone()).await.expect("a call with the environment's settings");
    assert_eq!(job.external_id.as_deref(), Some(DEMO_JOB_EXTERNAL_ID));

    // A setter wins over the environment.
    let e = Client::builder().api_key("pk_wrong_key_0000000000").build().unwrap().jobs().get(external.clone()).await;
    assert_eq!(e.unwrap_err().kind(), ErrorKind::Authentication);

    // Without the environment: the production host and no credentials (nothing is sent).
    let bare = Client::builder_without_env().build().unwrap();
    assert_eq!(bare.config().base_url().as_str(), "https://api.partly.com/");
    assert!(!bare.config().has_api_key());
    let e = bare.jobs().get(external).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.attempts(), 0);
    assert_eq!(mock.requests().len(), 2, "only the two calls of the environment's clients reached the mock");

    for var in ["PARTLY_BASE_URL", "PARTLY_API_KEY", "PARTLY_INTEGRATION_ID"] {
        std::env::remove_var(var);
    }
}
