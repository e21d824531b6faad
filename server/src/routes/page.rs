//! `GET /`: the page. The session is read here, before rendering, and handed to the Leptos app
//! as context ([`app::PageState`]); the app renders it synchronously and sends it along in the
//! HTML for hydration.
//!
//! Nothing on the page waits for anything, so it is rendered with Leptos' synchronous
//! `to_html` and sent as one body with a `Content-Length`, not through `leptos_axum`'s
//! streaming renderer and the machinery around it (owner sandboxing, meta context, chunk
//! streams).
//!
//! Only what differs between two responses is rendered for each: the document's head is the
//! same on every page but for its CSP nonce ([`NonceTemplate`]), and the guest's body is the
//! same for every visitor. Both are rendered once (bench/README.md).

use crate::configuration::Settings;
use crate::startup::AppState;
use app::api::server::session_view;
use app::api::{ApiError, SessionView, SiteInfo};
use app::session::AuthSession;
use app::PageState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{FutureExt, StreamExt};
use hydration_context::{SharedContext, SsrSharedContext};
use leptos::nonce::Nonce;
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
    /// The document up to `<body>`.
    head: OnceLock<NonceTemplate>,
    /// What a visitor without a session sees; its body is answered from `guest`.
    guest_view: SessionView,
    guest: OnceLock<Result<RenderedBody, RenderError>>,
}

impl Page {
    pub fn new(settings: &Settings, options: LeptosOptions, site: &SiteInfo) -> Self {
        Self {
            policy: ContentSecurityPolicy::new(settings, &options),
            options,
            head: OnceLock::new(),
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
        let fresh;
        let body = if view.as_ref() == Ok(&self.guest_view) {
            self.guest
                .get_or_init(|| render_body(PageState(view)))
                .as_ref()
        } else {
            fresh = render_body(PageState(view));
            fresh.as_ref()
        };
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "rendering the page failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The page could not be rendered.",
                )
                    .into_response();
            }
        };
        let nonce = Nonce::new().to_string();
        let head = self.head.get_or_init(|| render_head(&self.options));
        let mut response = Response::new(Body::from(body.document(head, &nonce)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        // Room for these and the ones every response gets, without growing the map.
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

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(&'static str);

/// `<!DOCTYPE html><html lang="en">`, the app's head and `<body>`, with a nonce to replace.
fn render_head(options: &LeptosOptions) -> NonceTemplate {
    let owner = Owner::new_root(None);
    let mut html = String::from(r#"<!DOCTYPE html><html lang="en">"#);
    let nonce = owner.with(|| {
        let nonce = Nonce::new();
        provide_context(nonce.clone());
        app::head(options.clone()).to_html_with_buf(
            &mut html,
            &mut Position::FirstChild,
            true,
            false,
            Vec::new(),
        );
        nonce.to_string()
    });
    owner.unset_with_forced_cleanup();
    html.push_str("<body>");
    NonceTemplate::new(html, &nonce)
}

/// The body for one state: what goes between `<body>` and `</body>`, then the scripts that
/// go after the document.
struct RenderedBody {
    /// `<App/>` and the page's state (a JSON data block).
    html: String,
    /// The contents of Leptos' hydration scripts, each to go into a `<script>` with the
    /// response's nonce.
    scripts: Vec<String>,
}

/// Renders `<App/>` for `state`.
fn render_body(state: PageState) -> Result<RenderedBody, RenderError> {
    let shared = Arc::new(SsrSharedContext::new());
    let owner = Owner::new_root(Some(shared.clone()));
    // One allocation for the body: `to_html` would start from Leptos' estimate of its length,
    // which leaves out the dynamic parts, and grow the string several times.
    let mut html = String::with_capacity(BODY_CAPACITY);
    // After `<App/>`, whose nodes hydration expects first in the body.
    let mut data = String::new();
    state
        .write_data_block(&mut data)
        .map_err(|_| RenderError("the page's state could not be written"))?;
    owner.with(|| {
        provide_context(state);
        app::App().to_html_with_buf(
            &mut html,
            &mut Position::FirstChild,
            true,
            false,
            Vec::new(),
        );
    });
    owner.unset_with_forced_cleanup();
    html.push_str(&data);
    // What Leptos' hydration expects to find (no resources: the page holds only values that
    // are ready at once), as `leptos_axum` sends it.
    let scripts = shared
        .pending_data()
        .ok_or(RenderError("no hydration data"))?
        .collect::<Vec<String>>()
        .now_or_never()
        .ok_or(RenderError("the page waited for something"))?;
    Ok(RenderedBody { html, scripts })
}

/// More than the signed-in page's body needs (3 KB with the local provider's claims).
const BODY_CAPACITY: usize = 6 * 1024;

impl RenderedBody {
    /// The whole document, with `nonce` in the head and on the scripts.
    fn document(&self, head: &NonceTemplate, nonce: &str) -> String {
        const SCRIPT: &str = "<script nonce=\"\"></script>";
        let length = head.len(nonce)
            + self.html.len()
            + "</body></html>".len()
            + self
                .scripts
                .iter()
                .map(|script| SCRIPT.len() + nonce.len() + script.len())
                .sum::<usize>();
        let mut html = String::with_capacity(length);
        head.fill(&mut html, nonce);
        html.push_str(&self.html);
        html.push_str("</body></html>");
        for script in &self.scripts {
            html.push_str("<script nonce=\"");
            html.push_str(nonce);
            html.push_str("\">");
            html.push_str(script);
            html.push_str("</script>");
        }
        html
    }
}

/// Rendered HTML cut at its nonce, to be sent again with a new one.
struct NonceTemplate {
    pieces: Vec<String>,
}

impl NonceTemplate {
    fn new(html: String, nonce: &str) -> Self {
        Self {
            pieces: html.split(nonce).map(str::to_owned).collect(),
        }
    }

    /// The length of the HTML with `nonce` in it.
    fn len(&self, nonce: &str) -> usize {
        self.pieces.iter().map(String::len).sum::<usize>()
            + nonce.len() * self.pieces.len().saturating_sub(1)
    }

    /// Appends the HTML, with `nonce` in it, to `html`.
    fn fill(&self, html: &mut String, nonce: &str) {
        for (index, piece) in self.pieces.iter().enumerate() {
            if index > 0 {
                html.push_str(nonce);
            }
            html.push_str(piece);
        }
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
    fn a_template_takes_a_new_nonce_everywhere() {
        let template = NonceTemplate::new(
            "<script nonce=\"N0nce\">a</script><p>N0nce</p>".to_owned(),
            "N0nce",
        );
        for nonce in ["first", "second-one"] {
            let mut html = String::new();
            template.fill(&mut html, nonce);
            assert_eq!(
                html,
                format!("<script nonce=\"{nonce}\">a</script><p>{nonce}</p>")
            );
            assert_eq!(template.len(nonce), html.len());
        }
    }

    #[test]
    fn a_document_has_its_nonce_in_the_head_and_on_every_script() {
        let head = NonceTemplate::new(
            "<head><script nonce=\"N\"></script></head><body>".into(),
            "N",
        );
        let body = RenderedBody {
            html: "<div>app</div>".into(),
            scripts: vec!["a=1;".into(), "b=2;".into()],
        };
        assert_eq!(
            body.document(&head, "xyz"),
            "<head><script nonce=\"xyz\"></script></head><body><div>app</div></body></html>\
             <script nonce=\"xyz\">a=1;</script><script nonce=\"xyz\">b=2;</script>"
        );
    }
}
