//! The security headers the auth layer adds to every response ([`SecurityHeaders`] turns each
//! off), and the page's Content-Security-Policy with the nonce Leptos puts on its inline
//! scripts ([`page_security_policy`]).
//!
//! A response the app already gave one of these headers keeps the app's. Without a policy of
//! its own, a response that is not a page (JSON, an error page, a redirect) gets one that allows
//! no script; an HTML page gets one that only refuses framing, plugins and `<base>` — an app's
//! page that has not asked for [`page_security_policy`] keeps working.

use super::{Auth, SecurityHeaders};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use leptos::config::LeptosOptions;
use leptos::nonce::{provide_nonce, use_nonce};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// The header of every answer of the login's routes that no cache may keep (a browser's, a
/// proxy's).
pub(crate) const NO_STORE: (HeaderName, &str) = (header::CACHE_CONTROL, "no-store");

const NO_SCRIPT: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'",
);
const NO_FRAMING: HeaderValue =
    HeaderValue::from_static("frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// What the layer adds, worked out once.
#[derive(Clone, Copy)]
pub(crate) struct ResponseHeaders {
    on: SecurityHeaders,
    /// Served over https: `Strict-Transport-Security` (a year; not `includeSubDomains`: other
    /// hosts of the domain are not this app's).
    https: bool,
}

impl ResponseHeaders {
    pub(crate) fn new(on: SecurityHeaders, https: bool) -> Self {
        Self { on, https }
    }

    /// Adds the headers to a response; `error_page`: one of the login's error pages.
    pub(crate) fn add_to(&self, headers: &mut HeaderMap, error_page: bool) {
        if self.on.content_security_policy && !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        {
            let html = !error_page
                && headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                if html { NO_FRAMING } else { NO_SCRIPT },
            );
        }
        if self.on.content_type_options {
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
        if self.on.referrer_policy {
            headers
                .entry(header::REFERRER_POLICY)
                .or_insert(HeaderValue::from_static("no-referrer"));
        }
        if self.on.frame_options {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        if self.on.strict_transport_security && self.https {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
        }
    }
}

/// The page's `Content-Security-Policy`, for the document being rendered: call it first thing
/// in the app's shell (before `<HydrationScripts>`, which takes the nonce). It provides a nonce
/// if the renderer has none, and sets the header: scripts from this origin and the page's
/// inline scripts with the nonce, WASM compilation, calls to this origin (and `cargo leptos
/// watch`'s reload socket in development), forms to this origin and the provider's (the
/// logout's end-session form), no framing. Nothing when the auth layer is not in front of the
/// page or [`SecurityHeaders::content_security_policy`] is off.
///
/// ```
/// # #[cfg(feature = "ssr")]
/// # mod shell {
/// use leptos::prelude::*;
/// pub fn shell(options: LeptosOptions) -> impl IntoView {
///     leptos_authgear::server::page_security_policy(&options);
///     view! {
///         <!DOCTYPE html>
///         <html lang="en">
///             <head><HydrationScripts options/></head>
///             <body>"…"</body>
///         </html>
///     }
/// }
/// # }
/// ```
pub fn page_security_policy(options: &LeptosOptions) {
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return;
    };
    let (Some(auth), Some(response)) = (
        parts.extensions.get::<Auth>(),
        use_context::<ResponseOptions>(),
    ) else {
        return;
    };
    if !auth.settings().security_headers.content_security_policy {
        return;
    }
    let nonce = use_nonce().or_else(|| {
        provide_nonce();
        use_nonce()
    });
    let Some(nonce) = nonce else {
        return;
    };
    let reload = match options.env {
        leptos::config::Env::DEV => {
            format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port)
        }
        leptos::config::Env::PROD => String::new(),
    };
    let policy = format!(
        "script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; default-src 'self'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; base-uri 'none'; \
         object-src 'none'; form-action 'self' {}; frame-ancestors 'none'",
        auth.provider_origin()
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_for(content_type: Option<&'static str>, https: bool, error_page: bool) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(content_type) = content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        ResponseHeaders::new(SecurityHeaders::default(), https).add_to(&mut headers, error_page);
        headers
    }

    #[test]
    fn json_and_error_pages_may_run_no_script_and_pages_keep_theirs() {
        let json = headers_for(Some("application/json"), false, false);
        assert_eq!(json[header::CONTENT_SECURITY_POLICY], NO_SCRIPT);
        assert_eq!(json[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(json[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(json[header::REFERRER_POLICY], "no-referrer");
        assert!(
            json.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
            "http"
        );
        let error = headers_for(Some("text/html; charset=utf-8"), true, true);
        assert_eq!(error[header::CONTENT_SECURITY_POLICY], NO_SCRIPT);
        assert_eq!(error[header::STRICT_TRANSPORT_SECURITY], HSTS);
        let page = headers_for(Some("text/html; charset=utf-8"), false, false);
        assert_eq!(page[header::CONTENT_SECURITY_POLICY], NO_FRAMING);
        let mut own = HeaderMap::new();
        own.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("script-src 'self'"),
        );
        ResponseHeaders::new(SecurityHeaders::default(), false).add_to(&mut own, false);
        assert_eq!(own[header::CONTENT_SECURITY_POLICY], "script-src 'self'");
    }

    #[test]
    fn each_header_can_be_turned_off() {
        let mut headers = HeaderMap::new();
        ResponseHeaders::new(SecurityHeaders::none(), true).add_to(&mut headers, false);
        assert!(headers.is_empty(), "{headers:?}");
    }
}
