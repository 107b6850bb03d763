//! The API methods, auth and the framework's wire behaviour.

mod common;

use common::*;
use partly_mock::*;
use serde_json::json;

#[tokio::test]
async fn jobs_get_returns_the_seeded_job_by_external_id_and_by_id() {
    let server = start().await;
    let client = reqwest::Client::new();

    let by_external =
        call(&client, &server, "jobs.get", &json!({"identity": {"external": DEMO_JOB_EXTERNAL_ID}})).await;
    assert_eq!(by_external.status, 200);
    assert_eq!(by_external.content_type(), Some("application/json"));
    assert!(by_external.header("x-request-id").is_some_and(|v| v.len() == 32));
    let job = by_external.json();
    assert_eq!(job["id"], DEMO_JOB_ID);
    assert_eq!(job["site_id"], DEMO_SITE_ID);
    assert_eq!(job["status"], json!({"type": "draft"}));
    assert_eq!(job["images"], json!([DEMO_JOB_IMAGE_URL]));
    assert_eq!(job["claim_number"], DEMO_CLAIM_NUMBER);
    assert_eq!(job["job_number"], DEMO_JOB_NUMBER);
    assert_eq!(job["external_id"], DEMO_JOB_EXTERNAL_ID);
    assert_eq!(job["work_provider_id"], json!(null));
    assert!(job["vehicle"].is_object());

    let by_id = call(&client, &server, "jobs.get", &json!({"identity": {"id": DEMO_JOB_ID}})).await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.json(), job);

    // The `repairer.` spelling is the same method.
    let repairer = call(&client, &server, "repairer.jobs.get", &json!({"identity": {"id": DEMO_JOB_ID}})).await;
    assert_eq!(repairer.json(), job);
}

#[tokio::test]
async fn jobs_get_unknown_job_is_not_found() {
    let server = start().await;
    let client = reqwest::Client::new();
    let r = call(&client, &server, "jobs.get", &json!({"identity": {"external": "nope"}})).await;
    r.assert_error(404, "not_found");
    let r =
        call(&client, &server, "jobs.get", &json!({"identity": {"id": "00000000-0000-4000-8000-000000000000"}})).await;
    r.assert_error(404, "not_found");
}

#[tokio::test]
async fn businesses_list_lists_the_seeded_business() {
    let server = start().await;
    let client = reqwest::Client::new();
    let r = call(&client, &server, "businesses.list", &json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"items": [{"id": DEMO_BUSINESS_ID, "name": DEMO_BUSINESS_NAME}]}));
}

#[tokio::test]
async fn auth_failures() {
    let server = start().await;
    let client = reqwest::Client::new();
    let body = json!({"identity": {"id": DEMO_JOB_ID}});

    // No integration id header: a framework error (plain text, no content type).
    let resp = client
        .post(method_url(&server, "jobs.get"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {DEMO_API_KEY}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let r = reply(resp).await;
    r.assert_text(400, "Failed to parse request headers: ");
    assert!(r.text.contains("missing field `partly-integration-id`"), "{r:?}");

    // Integration id that is not a UUID.
    let r = call_as(&client, &server, "jobs.get", DEMO_API_KEY, "not-a-uuid", &body).await;
    r.assert_text(400, "Failed to parse request headers: ");

    // No authorization header.
    let resp = client
        .post(method_url(&server, "jobs.get"))
        .header("partly-integration-id", DEMO_INTEGRATION_ID)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    reply(resp).await.assert_error(401, "unauthorized");

    // Not a Bearer credential.
    let resp = client
        .post(method_url(&server, "jobs.get"))
        .header("partly-integration-id", DEMO_INTEGRATION_ID)
        .header("authorization", DEMO_API_KEY)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    reply(resp).await.assert_error(401, "unauthorized");

    // Unknown key.
    let r = call_as(&client, &server, "jobs.get", "pk_live_nope", DEMO_INTEGRATION_ID, &body).await;
    r.assert_error(401, "unauthorized");
    assert!(!r.text.contains("pk_live_nope"), "the key must not be echoed");

    // A valid key for another integration.
    let r = call_as(&client, &server, "jobs.get", DEMO_API_KEY, "00000000-0000-4000-8000-000000000001", &body).await;
    r.assert_error(401, "unauthorized");

    // Every authenticated method checks auth.
    for method in ["jobs.insert", "tier1.prepare", "businesses.list", "repairer.jobs.get"] {
        let r = call_as(
            &client,
            &server,
            method,
            "pk_live_nope",
            DEMO_INTEGRATION_ID,
            &json!({
                "identity": {"id": DEMO_JOB_ID},
                "data": {"repairer_site_id": DEMO_SITE_ID},
                "identifiers": [{"chassis_number": "X"}]
            }),
        )
        .await;
        r.assert_error(401, "unauthorized");
    }
}

#[tokio::test]
async fn integrations_insert_trades_a_code_for_a_working_key_once() {
    let server = start().await;
    let client = reqwest::Client::new();
    let code = server.mint_access_code();
    assert_eq!(code.client_id, DEMO_CLIENT_ID);
    assert_eq!(code.client_secret, DEMO_CLIENT_SECRET);
    assert_eq!(code.expires_in_secs, 900);
    let request = json!({
        "access_code": code.access_code,
        "client_id": code.client_id,
        "client_secret": code.client_secret,
    });

    let r = call_anon(&client, &server, "integrations.insert", &request).await;
    assert_eq!(r.status, 200, "{r:?}");
    let installed = r.json();
    let key = installed["api_key"].as_str().unwrap().to_owned();
    let integration = installed["integration_id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("pk_live_"), "{key}");
    assert!(integration.parse::<uuid_like::Uuid>().is_ok(), "{integration}");

    // The new key works with its integration id, not with the demo one.
    let get = json!({"identity": {"external": DEMO_JOB_EXTERNAL_ID}});
    let r = call_as(&client, &server, "jobs.get", &key, &integration, &get).await;
    assert_eq!(r.status, 200);
    let r = call_as(&client, &server, "jobs.get", &key, DEMO_INTEGRATION_ID, &get).await;
    r.assert_error(401, "unauthorized");

    // Single use.
    let r = call_anon(&client, &server, "integrations.insert", &request).await;
    r.assert_error(400, "invalid_access_code");

    // The repairer spelling, with a fresh code.
    let code = server.mint_access_code();
    let r = call_anon(
        &client,
        &server,
        "repairer.integrations.insert",
        &json!({"access_code": code.access_code, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn integrations_insert_rejects_bad_codes_and_credentials() {
    let server = start().await;
    let client = reqwest::Client::new();

    let expired = server.mint_access_code_expiring_in(0);
    assert_eq!(expired.expires_in_secs, 0);
    let r = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({"access_code": expired.access_code, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}),
    )
    .await;
    r.assert_error(400, "invalid_access_code");
    assert!(r.json()["message"].as_str().unwrap().contains("expired"));

    let r = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({"access_code": "ac_never_minted", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}),
    )
    .await;
    r.assert_error(400, "invalid_access_code");

    // Wrong secret: 401, and the code is not consumed.
    let code = server.mint_access_code();
    let r = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({"access_code": code.access_code, "client_id": DEMO_CLIENT_ID, "client_secret": "wrong"}),
    )
    .await;
    r.assert_error(401, "unauthorized");
    let r = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({"access_code": code.access_code, "client_id": "someone-else", "client_secret": DEMO_CLIENT_SECRET}),
    )
    .await;
    r.assert_error(401, "unauthorized");
    let r = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({"access_code": code.access_code, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}),
    )
    .await;
    assert_eq!(r.status, 200);

    // A missing field is a body parse error.
    let r = call_anon(&client, &server, "integrations.insert", &json!({"access_code": "x"})).await;
    r.assert_text(400, "Failed to parse request body: ");
}

#[tokio::test]
async fn jobs_insert_creates_updates_and_replaces() {
    let server = start().await;
    let client = reqwest::Client::new();
    let vehicle = json!({"make": "Mazda", "model": "3", "year": 2021});

    // Create by external id.
    let r = call(
        &client,
        &server,
        "jobs.insert",
        &json!({
            "data": {"repairer_site_id": DEMO_SITE_ID, "claim_number": "C-1", "vehicle": vehicle},
            "identity": {"external": "EXT-1"},
            "if_": {"exists": "update"}
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let created = r.json();
    assert_eq!(created["external_id"], "EXT-1");
    assert_eq!(created["site_id"], DEMO_SITE_ID);
    assert_eq!(created["status"], json!({"type": "draft"}));
    assert_eq!(created["images"], json!([]));
    assert_eq!(created["claim_number"], "C-1");
    assert_eq!(created["job_number"], json!(null));
    assert_eq!(created["vehicle"], vehicle);
    let id = created["id"].as_str().unwrap().to_owned();

    // It is there afterwards, by either identity.
    let r = call(&client, &server, "jobs.get", &json!({"identity": {"id": id}})).await;
    assert_eq!(r.json(), created);

    // Update merges the non-null fields given.
    let r = call(
        &client,
        &server,
        "jobs.insert",
        &json!({
            "data": {"repairer_site_id": DEMO_SITE_ID, "job_number": "J-9", "claim_number": null},
            "identity": {"external": "EXT-1"},
            "if_": {"exists": "update"}
        }),
    )
    .await;
    let updated = r.json();
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["claim_number"], "C-1");
    assert_eq!(updated["job_number"], "J-9");
    assert_eq!(updated["vehicle"], vehicle);

    // A missing `if_` is an update too.
    let r = call(
        &client,
        &server,
        "jobs.insert",
        &json!({"data": {"repairer_site_id": DEMO_SITE_ID, "claim_number": "C-2"}, "identity": {"id": id}}),
    )
    .await;
    let updated = r.json();
    assert_eq!(updated["claim_number"], "C-2");
    assert_eq!(updated["job_number"], "J-9");

    // Replace overwrites: absent and null fields become null.
    let r = call(
        &client,
        &server,
        "repairer.jobs.insert",
        &json!({
            "data": {"repairer_site_id": DEMO_SITE_ID, "job_number": "J-10", "vehicle": null},
            "identity": {"external": "EXT-1"},
            "if_": {"exists": "replace"}
        }),
    )
    .await;
    let replaced = r.json();
    assert_eq!(replaced["id"], id.as_str());
    assert_eq!(replaced["external_id"], "EXT-1");
    assert_eq!(replaced["claim_number"], json!(null));
    assert_eq!(replaced["job_number"], "J-10");
    assert_eq!(replaced["vehicle"], json!(null));
    assert_eq!(replaced["work_provider_id"], json!(null));

    // Create by id uses that id.
    let new_id = "5b1e8c3a-0d7f-4e29-9a64-3f8b2c1d7e90";
    let wp = "0c9a1f7e-2b4d-4c8a-8e3f-6d5b4a3c2b1a";
    let r = call(
        &client,
        &server,
        "jobs.insert",
        &json!({
            "data": {"repairer_site_id": DEMO_SITE_ID, "work_provider_id": wp},
            "identity": {"id": new_id},
            "if_": {"exists": "replace"}
        }),
    )
    .await;
    let created = r.json();
    assert_eq!(created["id"], new_id);
    assert_eq!(created["external_id"], json!(null));
    assert_eq!(created["work_provider_id"], wp);
}

#[tokio::test]
async fn jobs_insert_unknown_site_is_site_not_found() {
    let server = start().await;
    let client = reqwest::Client::new();
    let r = call(
        &client,
        &server,
        "jobs.insert",
        &json!({
            "data": {"repairer_site_id": "00000000-0000-4000-8000-00000000abcd"},
            "identity": {"external": "EXT-2"},
            "if_": {"exists": "update"}
        }),
    )
    .await;
    r.assert_error(404, "site_not_found");
    let r = call(&client, &server, "jobs.get", &json!({"identity": {"external": "EXT-2"}})).await;
    r.assert_error(404, "not_found");
}

#[tokio::test]
async fn tier1_prepare_limits_and_identifier_forms() {
    let server = start().await;
    let client = reqwest::Client::new();
    let prepare = |ids: serde_json::Value| {
        let client = &client;
        let server = &server;
        async move { call(client, server, "tier1.prepare", &json!({"identifiers": ids})).await }
    };

    let r = prepare(json!([{"chassis_number": "JTDBZ3FE20J012345"}])).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({}));
    // Short chassis numbers are fine; plates with and without a region are fine.
    let r = prepare(json!([
        {"chassis_number": "FN2-1004321"},
        {"plate": "MXK482"},
        {"plate": "MXK482", "region": "NZ"},
        {"plate": "AB12CDE", "region": null, "extra": true}
    ]))
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let hundred: Vec<_> = (0..100).map(|i| json!({"chassis_number": format!("VIN{i}")})).collect();
    assert_eq!(prepare(json!(hundred)).await.status, 200);
    assert_eq!(server.prepared_identifiers(), 105);

    prepare(json!([])).await.assert_error(400, "bad_request");
    let too_many: Vec<_> = (0..101).map(|i| json!({"chassis_number": format!("VIN{i}")})).collect();
    prepare(json!(too_many)).await.assert_error(400, "bad_request");

    for bad in [
        json!({"chassis_number": ""}),
        json!({"plate": ""}),
        json!({"plate": 12}),
        json!({"plate": "X", "region": 3}),
        json!({"vin": "X"}),
        json!("JTDBZ3FE20J012345"),
        json!(null),
    ] {
        let r = prepare(json!([{"chassis_number": "OK"}, bad])).await;
        r.assert_error(400, "invalid_identifier");
    }
    assert_eq!(server.prepared_identifiers(), 105, "rejected requests queue nothing");

    // `identifiers` missing or not a list: a body parse error.
    let r = call(&client, &server, "tier1.prepare", &json!({})).await;
    r.assert_text(400, "Failed to parse request body: ");
    let r = call(&client, &server, "repairer.tier1.prepare", &json!({"identifiers": 3})).await;
    r.assert_text(400, "Failed to parse request body: ");
}

async fn raw_post(
    client: &reqwest::Client,
    server: &MockServer,
    method: &str,
    content_type: Option<&str>,
    body: &'static str,
) -> Reply {
    let mut req = client
        .post(method_url(server, method))
        .header("authorization", format!("Bearer {DEMO_API_KEY}"))
        .header("partly-integration-id", DEMO_INTEGRATION_ID)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    reply(req.send().await.unwrap()).await
}

#[tokio::test]
async fn framework_content_type_rules() {
    let server = start().await;
    let client = reqwest::Client::new();
    let r = raw_post(&client, &server, "businesses.list", Some("text/plain"), "{}").await;
    r.assert_text(415, "unsupported media type: ");
    let r = raw_post(&client, &server, "businesses.list", Some("application/xml"), "{}").await;
    r.assert_text(415, "unsupported media type: ");
    let r = raw_post(&client, &server, "businesses.list", Some("application/json; charset=utf-8"), "{}").await;
    assert_eq!(r.status, 200);
    let r = raw_post(&client, &server, "businesses.list", Some("Application/JSON;charset=UTF-8"), "{}").await;
    assert_eq!(r.status, 200);
    // No content type: read as JSON.
    let r = raw_post(&client, &server, "businesses.list", None, "{}").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn framework_body_rules() {
    let server = start().await;
    let client = reqwest::Client::new();
    // An empty body counts as `{}`.
    let r = raw_post(&client, &server, "businesses.list", Some("application/json"), "").await;
    assert_eq!(r.status, 200);
    let r = raw_post(&client, &server, "jobs.get", Some("application/json"), "").await;
    r.assert_text(400, "Failed to parse request body: ");
    assert!(r.text.contains("missing field `identity`"), "{r:?}");
    // Not JSON.
    let r = raw_post(&client, &server, "jobs.get", Some("application/json"), "{not json").await;
    r.assert_text(400, "Failed to parse request body: ");
    // Not the request shape.
    let r = raw_post(&client, &server, "jobs.get", None, r#"{"identity": {"id": "nope"}}"#).await;
    r.assert_text(400, "Failed to parse request body: ");
    let r = raw_post(&client, &server, "jobs.get", None, r#"{"identity": {"vin": "x"}}"#).await;
    r.assert_text(400, "Failed to parse request body: ");
    // Unknown fields are ignored.
    let r = raw_post(
        &client,
        &server,
        "jobs.get",
        None,
        r#"{"identity": {"external": "CCC-2026-04817"}, "future_field": [1, 2]}"#,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn framework_404_and_405_are_empty() {
    let server = start().await;
    let client = reqwest::Client::new();
    for path in ["/api/2026-01/jobs.delete", "/api/2026-01/", "/api/2025-01/jobs.get", "/"] {
        let resp = client.post(format!("{}{path}", server.url())).body("{}").send().await.unwrap();
        let r = reply(resp).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.text, "", "{path}");
        assert_eq!(r.content_type(), None, "{path}");
    }
    for resp in [
        client.get(method_url(&server, "jobs.get")).send().await.unwrap(),
        client.put(method_url(&server, "tier1.prepare")).body("{}").send().await.unwrap(),
    ] {
        let r = reply(resp).await;
        assert_eq!(r.status, 405);
        assert_eq!(r.text, "");
        assert_eq!(r.content_type(), None);
    }
}

#[tokio::test]
async fn traceparent_is_echoed_on_every_answer() {
    let server = start().await;
    let client = reqwest::Client::new();
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let ok = client
        .post(method_url(&server, "jobs.get"))
        .header("authorization", format!("Bearer {DEMO_API_KEY}"))
        .header("partly-integration-id", DEMO_INTEGRATION_ID)
        .header("traceparent", tp)
        .body(r#"{"identity":{"id":"497f6eca-6276-4993-bfeb-53cbbbba6f08"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["traceparent"], tp);
    let first_id = ok.headers()["x-request-id"].clone();

    for resp in [
        // 401, 400 text, 415, 404, 405
        client
            .post(method_url(&server, "jobs.get"))
            .header("partly-integration-id", DEMO_INTEGRATION_ID)
            .header("traceparent", tp)
            .body("{\"identity\":{\"id\":\"497f6eca-6276-4993-bfeb-53cbbbba6f08\"}}")
            .send()
            .await
            .unwrap(),
        client.post(method_url(&server, "jobs.get")).header("traceparent", tp).body("nope").send().await.unwrap(),
        client
            .post(method_url(&server, "jobs.get"))
            .header("traceparent", tp)
            .header("content-type", "text/plain")
            .send()
            .await
            .unwrap(),
        client.post(method_url(&server, "jobs.nope")).header("traceparent", tp).send().await.unwrap(),
        client.get(method_url(&server, "jobs.get")).header("traceparent", tp).send().await.unwrap(),
    ] {
        assert_eq!(resp.headers()["traceparent"], tp, "{}", resp.status());
        assert_ne!(resp.headers()["x-request-id"], first_id);
    }

    // Without a traceparent, none comes back.
    let r = call(&client, &server, "businesses.list", &json!({})).await;
    assert!(r.header("traceparent").is_none());
}

/// A tiny UUID syntax check so the tests do not need the `uuid` crate.
mod uuid_like {
    pub struct Uuid;
    impl std::str::FromStr for Uuid {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let groups: Vec<_> = s.split('-').map(str::len).collect();
            let hex = s.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
            if groups == [8, 4, 4, 4, 12] && hex {
                Ok(Uuid)
            } else {
                Err(())
            }
        }
    }
}
