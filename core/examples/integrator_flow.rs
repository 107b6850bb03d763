//! The whole integrator flow, end to end: authorize URL, install, upsert a job, fetch it by id
//! and by external id, and preload 250 vehicles with progress.
//!
//! Runs against `PARTLY_BASE_URL` (`make demo` starts a local `partly-mock` and sets it). With
//! a local mock, the access code that a real install gets from the OAuth redirect is minted
//! through the mock's control surface instead.

use partly::{oauth, Client, InstallRequest, JobData, JobIdentity, JobInsert, PrepareAllOptions, VehicleIdentifier};

const DEMO_CLIENT_ID: &str = "partly-demo-client";
const DEMO_SITE_ID: &str = "2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::var("PARTLY_BASE_URL").map_err(|_| "set PARTLY_BASE_URL (make demo does)")?;

    // 1. Send the user's browser to Partly to approve the integration.
    let auth = oauth::authorize_url(DEMO_CLIENT_ID, "https://shop.example/partly/callback", &["repairer"])?;
    println!("1. authorize at {}", auth.url);

    // 2. Partly redirects back with ?code=...&state=...; check the state, then install.
    let minted = mint_code_from_mock(&base_url).await?;
    let returned_state = auth.state.clone(); // what the redirect carried
    assert!(oauth::verify_state(&auth.state, &returned_state), "state mismatch: possible CSRF");
    let anonymous = Client::builder().base_url(&base_url).build()?;
    let installed = anonymous.integrations().insert(InstallRequest::new(minted.0, minted.1, minted.2)).await?;
    println!("2. installed: integration {} (api key kept secret: {:?})", installed.integration_id, installed.api_key);

    // 3. From now on, a client with the integration's credentials.
    let client = Client::builder()
        .base_url(&base_url)
        .api_key(installed.api_key.expose())
        .integration_id(installed.integration_id.to_string())
        .build()?;

    // 4. Upsert a job by our own reference.
    let mut data = JobData::new(DEMO_SITE_ID.parse()?);
    data.claim_number = Some("CLM-2026-555".into());
    data.job_number = Some("J-555".into());
    data.vehicle = Some(serde_json::json!({"make": "Toyota", "model": "Corolla", "year": 2019}));
    let job = client.jobs().insert(JobInsert::new(JobIdentity::external("SHOP-2026-0001"), data)).await?;
    println!("3. upserted job {} ({}), claim {:?}", job.id, job.status.kind, job.claim_number);

    // 5. Fetch it back by Partly's id and by our reference.
    let by_id = client.jobs().get(JobIdentity::Id(job.id)).await?;
    let by_ref = client.jobs().get(JobIdentity::external("SHOP-2026-0001")).await?;
    assert_eq!(by_id, by_ref);
    println!("4. fetched by id and by external id: {}", by_ref.external_id.as_deref().unwrap_or("-"));

    // 6. Preload 250 vehicles, pulled lazily from an iterator: 3 requests, with progress.
    let total = 250;
    let vins = (0..total).map(|i| VehicleIdentifier::chassis_number(format!("JH4KA7561PC{i:06}")));
    let bar = indicatif::ProgressBar::new(total as u64)
        .with_style(indicatif::ProgressStyle::with_template("5. preparing vehicles {bar:30} {pos}/{len} {msg}")?);
    let shown = bar.clone();
    let opts = PrepareAllOptions::default().max_concurrency(2).on_progress(move |p| {
        shown.set_position(p.done as u64);
        shown.set_message(format!("({} requests, {} in flight)", p.requests, p.in_flight));
    });
    let report = client.tier1().prepare_all(vins, opts).await?;
    bar.finish();
    println!("5. prepared {} vehicles in {} requests", report.total, report.requests);
    println!("   accepted {} of {}, failed {}", report.accepted, report.total, report.failed);
    for f in report.failures() {
        println!("   vehicle #{} {:?} failed: {}", f.index, f.identifier, f.error);
    }

    // 7. Errors are typed and explain themselves.
    match client.jobs().get(JobIdentity::external("NO-SUCH-JOB")).await {
        Err(e) => println!(
            "6. expected error: {e} [{}; status {:?}; trace {}]",
            e.kind(),
            e.status(),
            e.trace_id().unwrap_or("-")
        ),
        Ok(_) => println!("6. unexpectedly found NO-SUCH-JOB"),
    }
    Ok(())
}

/// Demo only: asks the local mock for an access code, as Partly's redirect would deliver one.
async fn mint_code_from_mock(base_url: &str) -> Result<(String, String, String), Box<dyn std::error::Error>> {
    let url = format!("{}/__mock/access_codes", base_url.trim_end_matches('/'));
    let raw = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let v: serde_json::Value = serde_json::from_slice(&raw)?;
    let field =
        |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string).ok_or(format!("mock answered without {k}"));
    Ok((field("access_code")?, field("client_id")?, field("client_secret")?))
}
