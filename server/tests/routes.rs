//! The real router on a random port, with the provider unreachable: what a user gets when
//! the identity provider is down, and how the BFF answers bad or hostile requests.

use leptos::prelude::LeptosOptions;
use leptos_authgear::server::Settings;
use openidconnect::reqwest;
use server::startup::Application;
use std::collections::HashMap;
use std::net::TcpListener;

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

struct TestApp {
    base: String,
    http: reqwest::Client,
}

async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// As [`spawn_app`], with `extra` variables set on top.
async fn spawn_app_with(extra: &[(&'static str, &'static str)]) -> TestApp {
    let provider = format!("http://127.0.0.1:{}", closed_port());
    let mut vars = HashMap::from([
        ("AUTHGEAR_DOMAIN", provider.as_str()),
        ("AUTHGEAR_CLIENT_ID", "client"),
        ("AUTHGEAR_CLIENT_SECRET", "secret"),
        ("APP_SECRET_KEY", "integration-tests-only-0123456789abcdef"),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("SESSION_STORE", "memory"),
    ]);
    vars.extend(extra.iter().copied());
    let settings = Settings::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
        .expect("valid settings");
    let options = LeptosOptions::builder()
        .output_name("authgear-leptos")
        .build();
    let app = Application::build(settings, options, app::DemoProvider(false))
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp { base, http }
}

impl TestApp {
    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

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

/// The real binary, with a clean environment plus `vars`, and no `.env` to find.
fn run_check_config(vars: &[(&str, &str)]) -> std::process::Output {
    let empty_dir = std::env::temp_dir();
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--check-config")
        .env_clear()
        .envs(vars.iter().copied())
        .current_dir(empty_dir)
        .output()
        .expect("the server binary runs")
}

#[test]
fn check_config_names_every_bad_variable_and_exits_1() {
    let output = run_check_config(&[("APP_SECRET_KEY", "short"), ("PORT", "x")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for variable in [
        "AUTHGEAR_DOMAIN",
        "AUTHGEAR_CLIENT_ID",
        "AUTHGEAR_CLIENT_SECRET",
        "APP_SECRET_KEY",
        "PORT",
    ] {
        assert!(
            stderr.contains(&format!("{variable}:")),
            "{variable} in {stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn check_config_fails_when_the_provider_cannot_be_discovered() {
    let provider = format!("http://127.0.0.1:{}", closed_port());
    let output = run_check_config(&[
        ("AUTHGEAR_DOMAIN", provider.as_str()),
        ("AUTHGEAR_CLIENT_ID", "client"),
        ("AUTHGEAR_CLIENT_SECRET", "secret"),
        ("APP_SECRET_KEY", "integration-tests-only-0123456789abcdef"),
        ("SESSION_STORE", "memory"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Configuration: OK"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Provider discovery: FAILED"));
}

#[test]
fn check_config_fails_when_the_session_store_is_unreachable() {
    let provider = format!("http://127.0.0.1:{}", closed_port());
    let redis = format!("redis://127.0.0.1:{}", closed_port());
    let output = run_check_config(&[
        ("AUTHGEAR_DOMAIN", provider.as_str()),
        ("AUTHGEAR_CLIENT_ID", "client"),
        ("AUTHGEAR_CLIENT_SECRET", "secret"),
        ("APP_SECRET_KEY", "integration-tests-only-0123456789abcdef"),
        ("SESSION_STORE", redis.as_str()),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("Session store: FAILED ({redis})")),
        "{stderr}"
    );
}

#[test]
fn a_bad_session_store_url_is_named_at_start() {
    let output = run_check_config(&[("SESSION_STORE", "postgres://db/sessions")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SESSION_STORE: `postgres://db/sessions` is not a session store"),
        "{stderr}"
    );
}

/// A provider that accepts connections and answers 503 only after `delay`.
async fn slow_provider(delay: std::time::Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                tokio::time::sleep(delay).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    url
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let provider = slow_provider(std::time::Duration::from_millis(1500)).await;
    let port = closed_port();
    let site = std::env::temp_dir();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .envs([
            ("AUTHGEAR_DOMAIN", provider.as_str()),
            ("AUTHGEAR_CLIENT_ID", "client"),
            ("AUTHGEAR_CLIENT_SECRET", "secret"),
            ("APP_SECRET_KEY", "integration-tests-only-0123456789abcdef"),
            ("SESSION_STORE", "memory"),
            ("LEPTOS_OUTPUT_NAME", "authgear-leptos"),
            ("LEPTOS_SITE_ROOT", site.to_str().expect("utf-8 temp dir")),
            ("LEPTOS_SITE_ADDR", &format!("127.0.0.1:{port}")),
            ("LOG_FORMAT", "json"),
        ])
        .current_dir(&site)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");

    // A sealed cookie for a session the store does not have: tower-sessions warns while the
    // page renders its server function, and that line must carry the request id too.
    let cookie = {
        use tower_sessions::cookie::{Cookie, CookieJar, Key};
        let mut jar = CookieJar::new();
        jar.private_mut(&Key::derive_from(
            b"integration-tests-only-0123456789abcdef",
        ))
        .add(Cookie::new(
            "session",
            tower_sessions::session::Id::default().to_string(),
        ));
        format!("session={}", jar.get("session").expect("sealed").value())
    };
    let page = http
        .get(format!("{base}/"))
        .header("cookie", cookie)
        .header("x-request-id", "page-render-1")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);

    // /readyz waits for discovery, which the slow provider answers after 1.5 s (twice: the
    // start-up attempt holds the discovery lock first).
    let in_flight = tokio::spawn({
        let http = http.clone();
        async move { http.get(format!("{base}/readyz")).send().await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());

    let response = in_flight
        .await
        .expect("task")
        .expect("the in-flight request completes");
    assert_eq!(response.status().as_u16(), 503);
    let body = response.text().await.expect("body");
    assert!(body.contains("provider"), "{body}");
    let mut exit = None;
    for _ in 0..100 {
        if let Some(status) = server.try_wait().expect("wait") {
            exit = Some(status);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    assert_eq!(
        exit.map(|status| status.code()),
        Some(Some(0)),
        "clean exit after SIGTERM"
    );

    // LOG_FORMAT=json: one JSON object per line; the request's lines carry its id.
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().expect("stderr"), &mut logs)
        .expect("logs");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON log line"))
        .collect();
    assert!(lines
        .iter()
        .all(|line| line["level"].is_string() && line["fields"]["message"].is_string()));
    let not_ready = lines
        .iter()
        .find(|line| line["fields"]["message"] == "not ready")
        .expect("readyz logged why");
    assert_eq!(not_ready["span"]["path"], "/readyz");
    assert_eq!(not_ready["span"]["id"].as_str().map(str::len), Some(16));
    assert!(lines
        .iter()
        .any(|line| line["fields"]["message"] == "shutting down"));
    let render_lines: Vec<_> = lines
        .iter()
        .filter(|line| line["span"]["id"] == "page-render-1")
        .collect();
    assert!(
        render_lines.iter().any(|line| line["fields"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("record not found"))),
        "{logs}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let request_id = |incoming: Option<&'static str>| {
        let mut request = app.http.get(format!("{}/healthz", app.base));
        if let Some(id) = incoming {
            request = request.header("x-request-id", id);
        }
        async move {
            let response = request.send().await.expect("request");
            let id = response.headers()["x-request-id"].to_str().expect("ascii");
            id.to_owned()
        }
    };
    assert_eq!(request_id(None).await.len(), 16);
    assert_eq!(request_id(Some("lb-1234")).await, "lb-1234");
    let replaced = request_id(Some("forged\"}{log")).await;
    assert_ne!(replaced, "forged\"}{log");
    assert_eq!(replaced.len(), 16);
}

/// Sends `request` on a new connection and reads until the response's head has arrived, or
/// `wait` passes; returns what arrived.
async fn raw_request(
    stream: &mut tokio::net::TcpStream,
    request: &str,
    wait: std::time::Duration,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    let _ = tokio::time::timeout(wait, async {
        while !received.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&received).into_owned()
}

const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[tokio::test]
async fn a_client_that_does_not_finish_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&[("HEADER_READ_TIMEOUT", "300ms")]).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("write");
    // Then nothing more: the server closes the connection once the time is up.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        slow.read_to_end(&mut rest),
    )
    .await
    .is_ok();
    assert!(closed, "the connection stayed open");
    let after = started.elapsed();
    assert!(after >= std::time::Duration::from_millis(250), "{after:?}");
    // A client that sends its headers in time is served.
    let mut prompt = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let response = raw_request(&mut prompt, HEALTHZ, std::time::Duration::from_secs(5)).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let app = spawn_app_with(&[("MAX_CONNECTIONS", "2")]).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let short = std::time::Duration::from_millis(500);
    let long = std::time::Duration::from_secs(5);
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        let response = raw_request(&mut stream, HEALTHZ, long).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        open.push(stream); // kept alive
    }
    let mut third = tokio::net::TcpStream::connect(&address)
        .await
        .expect("queued by the kernel");
    let waiting = raw_request(&mut third, HEALTHZ, short).await;
    assert_eq!(waiting, "", "served beyond the limit");
    drop(open.pop());
    let served = raw_request(&mut third, "", long).await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_login_limit_counts_the_forwarded_client() {
    let login = |app: &TestApp, forwarded_for: &'static str| {
        let request = app
            .http
            .get(format!("{}/login", app.base))
            .header("x-forwarded-for", forwarded_for);
        async move { request.send().await.expect("request").status().as_u16() }
    };
    let proxied = spawn_app_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LOGIN_RATE_LIMIT", "2/1m"),
    ])
    .await;
    // The provider is down: an allowed login is a 502/503 error page, a limited one a 429.
    for _ in 0..2 {
        assert_ne!(login(&proxied, "203.0.113.1").await, 429);
    }
    assert_eq!(
        login(&proxied, "203.0.113.1").await,
        429,
        "one client, limited"
    );
    assert_ne!(login(&proxied, "203.0.113.2").await, 429, "another client");
    // What the client wrote itself (the left) does not make it someone else.
    assert_eq!(login(&proxied, "198.51.100.9, 203.0.113.1").await, 429);

    // From a peer that is not a trusted proxy, the header is ignored: the peer is the client.
    let direct = spawn_app_with(&[("LOGIN_RATE_LIMIT", "2/1m")]).await;
    for forwarded_for in ["203.0.113.1", "203.0.113.2"] {
        assert_ne!(login(&direct, forwarded_for).await, 429);
    }
    assert_eq!(
        login(&direct, "203.0.113.3").await,
        429,
        "forged, and ignored"
    );
}
