//! The real router on a random port, with the provider unreachable: what a user gets when
//! the identity provider is down, and how the BFF answers bad or hostile requests.

mod common;

use common::{spawn_app, spawn_app_with, TestApp};

#[tokio::test]
async fn guests_are_served_while_the_provider_is_down() {
    let app = spawn_app().await;
    let (status, body) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Welcome Guest"), "{body}");
    assert!(body.contains(r#"id="qsLoginBtn""#));
    assert!(
        !body.contains("local demo provider"),
        "no demo notice for a real provider"
    );
}

#[tokio::test]
async fn login_with_the_provider_down_says_so() {
    let app = spawn_app().await;
    let (status, body) = app.get("/login").await;
    assert_eq!(status, 503);
    assert!(body.contains("Identity provider unavailable"), "{body}");
}

#[tokio::test]
async fn a_client_beyond_the_login_rate_gets_429_with_retry_after_and_a_page() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT", "3/1m")]).await;
    for _ in 0..3 {
        // Let through (to a provider that is down: 503).
        assert_eq!(app.get("/login").await.0, 503);
    }
    let response = app
        .http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("Retry-After in seconds");
    assert!(
        (15..=20).contains(&retry_after),
        "one login per 20 s: {retry_after}"
    );
    let body = response.text().await.expect("body");
    assert!(body.contains("Too many sign-in attempts"), "{body}");
    // Pages are not limited.
    assert_eq!(app.get("/").await.0, 200);
}

#[tokio::test]
async fn callback_errors_render_pages_with_4xx() {
    let app = spawn_app().await;
    let cases = [
        // Not a login this browser started: nothing of the provider's (or an attacker's) text.
        (
            "/callback?error=access_denied&error_description=Call%20evil.example",
            400,
            "The sign-in did not complete",
        ),
        (
            "/callback?error=access_denied&error_description=Call%20evil.example&state=forged",
            400,
            "The sign-in did not complete",
        ),
        (
            "/callback?code=abc&state=never-issued",
            400,
            "Sign-in link expired",
        ),
        ("/callback", 400, "Sign-in link expired"),
        ("/callback?state=a&state=b", 400, "Invalid sign-in response"),
        (
            "/login?return_to=https://evil.example",
            400,
            "Invalid return address",
        ),
        ("/no/such/page", 404, "Page not found"),
    ];
    for (path, expected_status, expected_text) in cases {
        let (status, body) = app.get(path).await;
        assert_eq!(status, expected_status, "{path}");
        assert!(body.contains(expected_text), "{path}: {body}");
        assert!(!body.contains("evil.example"), "{path}: {body}");
    }
}

#[tokio::test]
async fn absurd_and_malformed_query_strings_get_4xx_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let long = "a".repeat(30 * 1024);
    let cases = [
        format!("/callback?state={long}&code={long}"),
        format!("/callback?{long}"),
        format!("/login?return_to=/{long}"),
        "/callback?state=%ZZ&code=%".to_owned(),
        "/callback?state=%00%ff&code=\u{0}".to_owned(),
        "/callback?state[]=a&code[x]=b".to_owned(),
        "/login?return_to=%2F%2Fevil.example".to_owned(),
        "/login?return_to=/\\evil.example".to_owned(),
        "/login?return_to=%0d%0aSet-Cookie:x=y".to_owned(),
    ];
    for path in &cases {
        let (status, _) = app.get(path).await;
        assert!(
            (400..500).contains(&status),
            "{status} for {}",
            &path[..path.len().min(60)]
        );
    }
    // 1 MB of query: refused by the HTTP layer, not a crash.
    let huge = format!("/callback?state={}", "a".repeat(1024 * 1024));
    let status = app
        .http
        .get(format!("{}{huge}", app.base))
        .send()
        .await
        .map(|response| response.status().as_u16());
    assert!(
        status.as_ref().map_or(true, |s| (400..500).contains(s)),
        "{status:?}"
    );
    assert_eq!(app.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn corrupted_or_foreign_session_cookies_count_as_no_session() {
    let app = spawn_app().await;
    // A cookie sealed with another APP_SECRET_KEY (another deployment's), and plain garbage.
    let foreign = "session=8Yh1c3T9bq0xJ6mNnR3W5k7s9u1w3y5A7C9E1G3I5K7M9O1Q3S5U7W9Y1a3c5e7g9i";
    for cookie in [
        foreign,
        "session=garbage",
        "session=",
        "session=%FF%FE",
        "session=a.b.c",
    ] {
        for (method, path) in [("GET", "/"), ("POST", "/api/current_user")] {
            let request = match method {
                "GET" => app.http.get(format!("{}{path}", app.base)),
                _ => app
                    .http
                    .post(format!("{}{path}", app.base))
                    .header("sec-fetch-site", "same-origin"),
            };
            let response = request
                .header("cookie", cookie)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 200, "{cookie} {path}");
            let body = response.text().await.expect("body");
            let guest = body.contains("Welcome Guest") || body.contains(r#""user":null"#);
            assert!(guest, "{cookie} {path}: {body}");
        }
    }
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app().await;
    for path in ["/logout", "/api/current_user"] {
        let response = app
            .http
            .post(format!("{}{path}", app.base))
            .header("origin", "http://evil.example")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 403, "{path}");
    }
    let same_site = app
        .http
        .post(format!("{}/api/current_user", app.base))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("request");
    assert_eq!(same_site.status().as_u16(), 200);
    let body = same_site.text().await.expect("body");
    assert!(body.contains(r#""user":null"#), "{body}");
}

#[tokio::test]
async fn strict_transport_security_only_when_the_app_is_served_over_https() {
    let hsts = |app: &TestApp| {
        let url = format!("{}/healthz", app.base);
        let http = app.http.clone();
        async move {
            let response = http.get(url).send().await.expect("request");
            response
                .headers()
                .get("strict-transport-security")
                .map(|value| value.to_str().unwrap_or_default().to_owned())
        }
    };
    assert_eq!(hsts(&spawn_app().await).await, None);
    let https = spawn_app_with(&[("APP_URL", "https://app.example")]).await;
    assert_eq!(hsts(&https).await.as_deref(), Some("max-age=31536000"));
}

#[tokio::test]
async fn healthz_answers_and_readyz_reports_the_provider_down() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, 503);
    let report: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        report,
        serde_json::json!({ "provider": "not ready", "session_store": "ok" })
    );
    // The reason stays in the log: not the provider's address, nor any error text.
    assert!(
        !body.contains("127.0.0.1") && !body.contains("error"),
        "{body}"
    );
}
