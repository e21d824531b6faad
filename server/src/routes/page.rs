//! `GET /`: the page. The session is read here, before rendering, and handed to the Leptos app
//! as context ([`app::PageState`]); the app renders it synchronously and sends it along in the
//! HTML for hydration.
//!
//! Nothing on the page waits for anything, so it is rendered with Leptos' synchronous
//! `to_html` and sent as one body with a `Content-Length`, not through `leptos_axum`'s
//! streaming renderer and the machinery around it (owner sandboxing, meta context, chunk
//! streams).
//!
//! The guest page is the same for every visitor but for its CSP nonce: it is rendered once,
//! and each response only gets a fresh nonce ([`NonceTemplate`]). Together: 80 → 21–28 µs of
//! CPU per guest page (bench/README.md).

use crate::configuration::Settings;
use crate::startup::AppState;
use app::api::server::session_view;
use app::api::{ApiError, SessionView, SiteInfo};
use app::session::AuthSession;
use app::PageState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{FutureExt, StreamExt};
use hydration_context::{SharedContext, SsrSharedContext};
use leptos::nonce::{use_nonce, Nonce};
use leptos::prelude::{provide_context, LeptosOptions, Owner, RenderHtml};
use leptos::tachys::view::Position;
use std::sync::{Arc, OnceLock};

pub async fn home(State(state): State<AppState>, session: AuthSession) -> Response {
    let view = session_view(&session, &state.site).await;
    state.page.respond(view)
}

/// Renders the page and sets the headers that go with it.
pub struct Page {
    options: LeptosOptions,
    policy: ContentSecurityPolicy,
    /// What a visitor without a session sees; answered from `guest`.
    guest_view: SessionView,
    guest: OnceLock<Result<NonceTemplate, RenderError>>,
}

impl Page {
    pub fn new(settings: &Settings, options: LeptosOptions, site: &SiteInfo) -> Self {
        Self {
            policy: ContentSecurityPolicy::new(settings, &options),
            options,
            guest_view: SessionView {
                user: None,
                local_demo_provider: site.local_demo_provider,
                account_settings_url: None,
                session_ended: false,
            },
            guest: OnceLock::new(),
        }
    }

    pub fn respond(&self, view: Result<SessionView, ApiError>) -> Response {
        // The page says "Temporarily unavailable" (the session store is down); the status says
        // it to anything that is not a person.
        let status = match view {
            Ok(_) => StatusCode::OK,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let rendered = if view.as_ref() == Ok(&self.guest_view) {
            self.guest
                .get_or_init(|| render(&self.options, PageState(view)).map(NonceTemplate::new))
                .as_ref()
                .map_err(Clone::clone)
                .map(NonceTemplate::fill)
        } else {
            render(&self.options, PageState(view))
        };
        let (html, nonce) = match rendered {
            Ok(rendered) => rendered,
            Err(error) => {
                tracing::error!(%error, "rendering the page failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The page could not be rendered.",
                )
                    .into_response();
            }
        };
        let mut response = (status, html).into_response();
        let headers = response.headers_mut();
        // Room for these and the ones every response gets, without growing the map twice.
        headers.reserve(12);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        // The page shows who is signed in: never cache it.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Ok(policy) = HeaderValue::from_maybe_shared(self.policy.with_nonce(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response
    }
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(&'static str);

/// Renders the whole document for `state`, with a fresh nonce: the HTML and that nonce.
fn render(options: &LeptosOptions, state: PageState) -> Result<(String, String), RenderError> {
    let shared = Arc::new(SsrSharedContext::new());
    let owner = Owner::new_root(Some(shared.clone()));
    // One allocation for the page: `to_html` would start from Leptos' estimate of its length,
    // which leaves out the dynamic parts, and grow the string several times.
    let mut html = String::with_capacity(PAGE_CAPACITY);
    let nonce = owner.with(|| {
        provide_context(state);
        leptos::nonce::provide_nonce();
        app::shell(options.clone()).to_html_with_buf(
            &mut html,
            &mut Position::FirstChild,
            true,
            false,
            Vec::new(),
        );
        use_nonce().map(|nonce| nonce.to_string())
    });
    owner.unset_with_forced_cleanup();
    let nonce = nonce.ok_or(RenderError("no nonce was provided"))?;
    // The state the page was rendered from, for hydration: scripts after the document, as
    // `leptos_axum` sends them. The page only holds values that are ready at once.
    let data = shared
        .pending_data()
        .ok_or(RenderError("no hydration data"))?
        .collect::<Vec<String>>()
        .now_or_never()
        .ok_or(RenderError("the page waited for something"))?;
    for chunk in data {
        html.push_str("<script nonce=\"");
        html.push_str(&nonce);
        html.push_str("\">");
        html.push_str(&chunk);
        html.push_str("</script>");
    }
    Ok((html, nonce))
}

/// More than the signed-in page needs (4 KB with the local provider's claims).
const PAGE_CAPACITY: usize = 8 * 1024;

/// A rendered page cut at its nonce, to be sent again with a new one.
struct NonceTemplate {
    pieces: Vec<String>,
}

impl NonceTemplate {
    fn new((html, nonce): (String, String)) -> Self {
        Self {
            pieces: html.split(nonce.as_str()).map(str::to_owned).collect(),
        }
    }

    fn fill(&self) -> (String, String) {
        let nonce = Nonce::new().to_string();
        let length = self.pieces.iter().map(String::len).sum::<usize>()
            + nonce.len() * self.pieces.len().saturating_sub(1);
        let mut html = String::with_capacity(length);
        for (index, piece) in self.pieces.iter().enumerate() {
            if index > 0 {
                html.push_str(&nonce);
            }
            html.push_str(piece);
        }
        (html, nonce)
    }
}

/// The page's Content-Security-Policy: scripts only from this origin and the page's inline
/// scripts (by nonce), WASM compilation, server-function calls to this origin, and forms
/// (logout) that may redirect to the provider's end-session endpoint.
struct ContentSecurityPolicy {
    /// The policy before and after the nonce.
    before: String,
    after: String,
}

impl ContentSecurityPolicy {
    fn new(settings: &Settings, options: &LeptosOptions) -> Self {
        let provider = settings.provider.issuer.as_str().trim_end_matches('/');
        // `cargo leptos watch` reloads the page through a WebSocket on the reload port.
        let reload = match options.env {
            leptos::config::Env::DEV => {
                format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port)
            }
            leptos::config::Env::PROD => String::new(),
        };
        Self {
            before: "script-src 'self' 'nonce-".to_owned(),
            after: format!(
                "' 'wasm-unsafe-eval'; default-src 'self'; style-src 'self'; \
                 img-src 'self' data:; connect-src 'self'{reload}; base-uri 'none'; \
                 object-src 'none'; form-action 'self' {provider}; frame-ancestors 'none'"
            ),
        }
    }

    /// The header's bytes, built without `format!` (this runs on every page view).
    fn with_nonce(&self, nonce: &str) -> Bytes {
        let mut policy = Vec::with_capacity(self.before.len() + nonce.len() + self.after.len());
        policy.extend_from_slice(self.before.as_bytes());
        policy.extend_from_slice(nonce.as_bytes());
        policy.extend_from_slice(self.after.as_bytes());
        Bytes::from(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_sends_each_page_with_a_new_nonce_everywhere() {
        let page = "<script nonce=\"N0nce\">a</script><p>N0nce</p>".to_owned();
        let template = NonceTemplate::new((page, "N0nce".to_owned()));
        let (first, first_nonce) = template.fill();
        let (second, second_nonce) = template.fill();
        assert_ne!(first_nonce, second_nonce);
        assert_eq!(first.matches(&first_nonce).count(), 2, "{first}");
        assert!(!first.contains("N0nce") && !second.contains(&first_nonce));
        assert_eq!(
            first.replace(&first_nonce, "N"),
            "<script nonce=\"N\">a</script><p>N</p>"
        );
    }
}
