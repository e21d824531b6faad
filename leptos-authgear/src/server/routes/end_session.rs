//! The page `POST /logout` answers with: a form that posts the logout to the provider's
//! end-session endpoint by itself. The ID token (the hint) is personal data for a confidential
//! client; in a form's body it stays out of browser history, `Location` headers and access
//! logs, where a redirect's query would put it (Authgear's spec recommends POST for this).

use super::NO_STORE;
use crate::server::error::escape_html;
use crate::server::oidc::EndSession;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The page's only script: submit the form. Allowed by its hash, nothing else.
const SUBMIT_SCRIPT: &str = "document.getElementById('endSession').submit()";

static SUBMIT_SCRIPT_HASH: LazyLock<String> =
    LazyLock::new(|| STANDARD.encode(Sha256::digest(SUBMIT_SCRIPT.as_bytes())));

/// The auto-submitting form for `end_session`, with a button for a browser without scripts.
pub(crate) fn form_page(end_session: &EndSession) -> Response {
    let mut inputs = String::new();
    for (name, value) in &end_session.params {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape_html(value)
        ));
    }
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Signing out…</title></head><body>\
         <form id=\"endSession\" method=\"post\" action=\"{action}\">{inputs}\
         <p>Signing you out at the identity provider…</p>\
         <noscript><button type=\"submit\">Continue</button></noscript></form>\
         <script>{SUBMIT_SCRIPT}</script></body></html>",
        action = escape_html(end_session.endpoint.as_str()),
    );
    let provider = end_session.endpoint.origin().ascii_serialization();
    let policy = format!(
        "default-src 'none'; script-src 'sha256-{}'; base-uri 'none'; \
         form-action 'self' {provider}; frame-ancestors 'none'",
        *SUBMIT_SCRIPT_HASH
    );
    let mut response = (StatusCode::OK, Html(page)).into_response();
    let headers = response.headers_mut();
    // The page holds the ID token: kept by no cache.
    let (name, value) = NO_STORE;
    headers.insert(name, HeaderValue::from_static(value));
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_carries_the_hint_in_its_body_and_its_script_by_hash() {
        let end_session = EndSession {
            endpoint: url::Url::parse("https://auth.example.com/oauth2/end_session").expect("url"),
            params: [
                ("id_token_hint", "header.pay\"load.sig".to_owned()),
                (
                    "post_logout_redirect_uri",
                    "http://localhost:3000/".to_owned(),
                ),
                ("state", "s".to_owned()),
            ],
        };
        let response = form_page(&end_session);
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            policy.contains("form-action 'self' https://auth.example.com;"),
            "{policy}"
        );
        // The hash CSP expects of the inline script (sha256, base64) — the same as a browser's.
        assert!(policy.contains("'sha256-"), "{policy}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let body =
            futures::executor::block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
                .expect("body");
        let body = String::from_utf8(body.to_vec()).expect("utf-8");
        assert!(body.contains(
            "<form id=\"endSession\" method=\"post\" action=\"https://auth.example.com/oauth2/end_session\">"
        ));
        assert!(body.contains("name=\"id_token_hint\" value=\"header.pay&quot;load.sig\""));
        assert!(body.contains(&format!("<script>{SUBMIT_SCRIPT}</script>")));
    }
}
