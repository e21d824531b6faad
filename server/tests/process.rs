//! The server binary and its connections: `--check-config`, a graceful shutdown under load,
//! request ids, header timeouts, the connection limit and the login limit behind a proxy.

mod common;

use common::{closed_port, spawn_app, spawn_app_with, TestApp};
use openidconnect::reqwest;

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
