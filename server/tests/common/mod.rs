//! What the integration tests share: the demo app built on a random port with its provider at
//! a closed port (or wherever a test says), and an HTTP client that follows no redirect.

// Each test binary uses part of this module.
#![allow(dead_code)]

use leptos::prelude::LeptosOptions;
use leptos_authgear::server::Settings;
use openidconnect::reqwest;
use server::startup::Application;
use std::collections::HashMap;
use std::net::TcpListener;

/// The demo app with a memory store, its provider at a closed port, and `extra` variables on
/// top (any may be replaced: `AUTHGEAR_DOMAIN`, say); built, not yet running.
pub async fn build_app(extra: &[(&str, &str)]) -> Application {
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
    Application::build(settings, options, app::DemoProvider(false))
        .await
        .expect("app builds")
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// The app running, and a client for it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// As [`spawn_app`], with `extra` variables set on top.
pub async fn spawn_app_with(extra: &[(&'static str, &'static str)]) -> TestApp {
    let app = build_app(extra).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp { base, http }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> (u16, String) {
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
