//! The page's Content-Security-Policy: scripts only from this origin and the page's inline
//! scripts (by the nonce Leptos gives each response), WASM compilation, calls to this origin,
//! and forms (logout) that may redirect to the provider's end-session endpoint.

use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// The policy for this deployment, without its nonce: the server provides it as context.
#[derive(Clone, Debug)]
pub struct ContentSecurityPolicy {
    /// The policy after the nonce.
    after: String,
}

impl ContentSecurityPolicy {
    /// For a provider at `provider_origin`; `reload` is `cargo leptos watch`'s WebSocket
    /// (`ws://host:port`), when it serves the page.
    pub fn new(provider_origin: &str, reload: Option<String>) -> Self {
        let reload = reload.map(|url| format!(" {url}")).unwrap_or_default();
        Self {
            after: format!(
                "' 'wasm-unsafe-eval'; default-src 'self'; style-src 'self'; \
                 img-src 'self' data:; connect-src 'self'{reload}; base-uri 'none'; \
                 object-src 'none'; form-action 'self' {provider_origin}; frame-ancestors 'none'"
            ),
        }
    }

    /// The header's value with `nonce`.
    pub fn with_nonce(&self, nonce: &str) -> String {
        let mut policy = String::with_capacity(30 + nonce.len() + self.after.len());
        policy.push_str("script-src 'self' 'nonce-");
        policy.push_str(nonce);
        policy.push_str(&self.after);
        policy
    }
}

/// Sets the header on the page being rendered, with its nonce. Without a policy in context
/// (or a nonce), the server's default for every response, which allows no script, stays.
pub(crate) fn set_header() {
    let (Some(policy), Some(nonce), Some(response)) = (
        use_context::<ContentSecurityPolicy>(),
        use_nonce(),
        use_context::<ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy.with_nonce(&nonce.to_string())) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}
