//! The test kit (`leptos_authgear::server::testing`, feature `testing`) as an app's own Rust
//! tests use it: a session minted into the real app's store, then ended by a signed Authgear
//! webhook or by a back-channel logout token of the kit's provider, over HTTP on a random port.

mod common;

use leptos_authgear::server::testing;
use openidconnect::reqwest;
use server::startup::Application;

const WEBHOOK_SECRET: &str = "test-kit-webhook-secret-0123456789";

/// The demo app on a random port, its provider at `issuer`, with webhooks on; and its base URL.
async fn start_app(issuer: &str) -> (Application, String) {
    let app = common::build_app(&[
        ("AUTHGEAR_DOMAIN", issuer),
        ("AUTHGEAR_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CLOCK_SKEW", "0s"),
    ])
    .await;
    let base = format!("http://127.0.0.1:{}", app.port());
    (app, base)
}

/// The signed-in user's email as the app's `current_user` says it for `cookie`, or `None`.
async fn email_of(http: &reqwest::Client, base: &str, cookie: &str) -> Option<String> {
    let response = http
        .post(format!("{base}/api/current_user"))
        .header("cookie", cookie)
        // What a browser sends with its own page's call (the app's URL names another port).
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("body");
    let state: serde_json::Value = serde_json::from_slice(&body).expect("json");
    state["user"]["email"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_minted_session_is_signed_in_and_a_signed_webhook_ends_it() {
    // Nothing here calls the provider: no login goes through it.
    let (app, base) = start_app("http://127.0.0.1:9").await;
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
    assert_eq!(
        email_of(&http, &base, &cookie).await.as_deref(),
        Some("kit@example.com")
    );

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
    assert_eq!(email_of(&http, &base, &cookie).await, None);
}

#[tokio::test]
async fn the_kits_provider_signs_logout_tokens_the_app_accepts_for_its_own_client_only() {
    let provider = testing::TestProvider::start().await.expect("provider");
    let (app, base) = start_app(provider.issuer()).await;
    let mint = |sub: &'static str| {
        testing::mint_session(
            app.auth(),
            sub,
            serde_json::json!({ "email": format!("{sub}@example.com") }),
        )
    };
    let ada = mint("ada").await.expect("minted");
    let bob = mint("bob").await.expect("minted");
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let post = |token: String| {
        http.post(format!("{base}/backchannel-logout"))
            .form(&[("logout_token", token)])
            .send()
    };

    // For another client, or with a signature that does not match: refused, nobody signed out.
    let other_client = post(provider.logout_token("another-client", "ada", None))
        .await
        .expect("post");
    assert_eq!(other_client.status(), 400);
    let mut tampered = provider.logout_token("client", "ada", None);
    tampered.truncate(tampered.len() - 4);
    tampered.push_str("AAAA");
    assert_eq!(post(tampered).await.expect("post").status(), 400);
    assert_eq!(
        email_of(&http, &base, &ada).await.as_deref(),
        Some("ada@example.com")
    );

    // For this client: ada's session ends, bob's stays.
    let accepted = post(provider.logout_token("client", "ada", None))
        .await
        .expect("post");
    assert_eq!(accepted.status(), 200);
    assert_eq!(email_of(&http, &base, &ada).await, None);
    assert_eq!(
        email_of(&http, &base, &bob).await.as_deref(),
        Some("bob@example.com")
    );
}
