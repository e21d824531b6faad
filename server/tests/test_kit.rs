//! The test kit (`leptos_authgear::server::testing`, feature `testing`) as an app's own Rust
//! tests use it: a session minted into the real app's store, and a signed Authgear webhook
//! posted to it, over HTTP on a random port.

use leptos::prelude::LeptosOptions;
use leptos_authgear::server::{testing, Settings};
use openidconnect::reqwest;
use server::startup::Application;
use std::collections::HashMap;

const WEBHOOK_SECRET: &str = "test-kit-webhook-secret-0123456789";

#[tokio::test]
async fn a_minted_session_is_signed_in_and_a_signed_webhook_ends_it() {
    let vars = HashMap::from([
        // Nothing here calls the provider: no login goes through it.
        ("AUTHGEAR_DOMAIN", "http://127.0.0.1:9"),
        ("AUTHGEAR_CLIENT_ID", "client"),
        ("AUTHGEAR_CLIENT_SECRET", "secret"),
        ("APP_SECRET_KEY", "integration-tests-only-0123456789abcdef"),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("SESSION_STORE", "memory"),
        ("AUTHGEAR_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CLOCK_SKEW", "0s"),
    ]);
    let settings = Settings::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
        .expect("valid settings");
    let options = LeptosOptions::builder()
        .output_name("authgear-leptos")
        .build();
    let app = Application::build(settings, options, app::DemoProvider(false))
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let cookie = testing::mint_session(
        app.auth(),
        "kit-user",
        serde_json::json!({ "email": "kit@example.com" }),
    )
    .await
    .expect("minted");
    assert!(cookie.starts_with("session="), "{cookie}");
    // Claims that are not an object are refused, not guessed.
    let refused = testing::mint_session(app.auth(), "x", serde_json::json!([1])).await;
    assert!(refused.is_err());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let who = || async {
        let response = http
            .post(format!("{base}/api/current_user"))
            .header("cookie", &cookie)
            // What a browser sends with its own page's call (the app's URL names another port).
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        let body = response.bytes().await.expect("body");
        let state: serde_json::Value = serde_json::from_slice(&body).expect("json");
        state["user"]["email"].as_str().map(str::to_owned)
    };
    assert_eq!(who().await.as_deref(), Some("kit@example.com"));

    let (body, signature) = testing::signed_webhook(
        WEBHOOK_SECRET,
        "user.disabled",
        serde_json::json!({ "user": { "id": "kit-user" } }),
    );
    let delivered = http
        .post(format!("{base}/webhooks/authgear"))
        .header("content-type", "application/json")
        .header("x-authgear-body-signature", signature)
        .body(body)
        .send()
        .await
        .expect("webhook");
    assert_eq!(delivered.status(), 200);
    assert_eq!(who().await, None);
}
