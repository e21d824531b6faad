//! The one error type of the BFF's own routes, and the page a person sees for each case: an
//! [`ErrorPage`] (what went wrong, in words an app may replace), rendered by the app's own
//! renderer ([`SettingsBuilder::error_page`](super::SettingsBuilder::error_page)) or by a
//! neutral default.

use crate::server::id_token::IdTokenError;
use crate::server::return_to::InvalidReturnTo;
use crate::server::session::SessionError;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// Why a login could not be completed with the provider (the flow in `oidc.rs`).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    #[error("token exchange failed: {0}")]
    TokenExchange(String),
    #[error("ID token rejected: {0}")]
    IdToken(IdTokenError),
    #[error("userinfo failed: {0}")]
    UserInfo(String),
}

/// Logs the cause on the server and answers 503 (for the page and for a server function call
/// alike); the browser only learns that it was temporary. The session is left as it is: it
/// works again once the store is back.
pub(crate) fn store_error(error: impl std::fmt::Display) -> crate::AuthError {
    tracing::error!(%error, "session store failed");
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(StatusCode::SERVICE_UNAVAILABLE);
    }
    crate::AuthError::Temporary(STORE_UNAVAILABLE.into())
}

const STORE_UNAVAILABLE: &str = "The server cannot reach its session store right now. Nothing \
     was lost; please try again in a moment.";

/// Provider-supplied text is shown, escaped, and cut to this many characters.
const MAX_PROVIDER_TEXT: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(transparent)]
    Provider(#[from] OidcError),
    #[error("the identity provider returned error `{code}`")]
    ProviderRejected {
        code: String,
        description: Option<String>,
    },
    #[error("the identity provider returned an error for an unknown login attempt")]
    ProviderRejectedUnknownAttempt,
    #[error("unknown, expired or already used login attempt (state)")]
    UnknownLoginAttempt,
    #[error("too many logins from this client; retry in {retry_after_secs} s")]
    TooManyLogins { retry_after_secs: u64 },
    #[error("callback without an authorization code")]
    MissingCode,
    #[error("callback `iss` does not match the issuer")]
    IssuerMismatch,
    #[error("malformed query string: {0}")]
    MalformedQuery(String),
    #[error(transparent)]
    InvalidReturnTo(#[from] InvalidReturnTo),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("cross-site request refused")]
    CrossSite,
}

/// What went wrong, for the page a person sees when one of the login's routes fails (a
/// refused sign-in, an expired login link, the provider down) and for the app's 404
/// ([`not_found`]). The title and message are the crate's English text; an app that speaks
/// another language, or its own tone, writes its own from [`ErrorPage::kind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorPage {
    /// The response's status.
    pub status: StatusCode,
    /// Which case it is.
    pub kind: ErrorKind,
    /// A short heading, e.g. "Sign-in failed".
    pub title: &'static str,
    /// What happened and what to do, in a sentence or two. May quote the provider's own
    /// description (cut to 200 characters); escape it in HTML.
    pub message: String,
    /// Where "try again" goes: the login route.
    pub login_url: String,
}

/// The cases of an [`ErrorPage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider cannot be reached (503).
    ProviderUnavailable,
    /// The provider's answer could not be accepted (502), or it refused the sign-in.
    SignInFailed,
    /// The user (or the provider, without its own page) cancelled the sign-in (403).
    SignInCancelled,
    /// This client started too many sign-ins in a short time (429, `Retry-After`).
    TooManyLogins,
    /// The sign-in attempt is unknown, expired or already used (400).
    LoginExpired,
    /// The provider's answer was incomplete or malformed (400).
    InvalidResponse,
    /// `return_to` was not a local path (400).
    InvalidReturnTo,
    /// The session store cannot be reached (503).
    SessionUnavailable,
    /// A request that changes state came from another site (403).
    CrossSite,
    /// Nothing at this address (404).
    NotFound,
}

/// Renders an [`ErrorPage`] as a whole HTML document; see
/// [`SettingsBuilder::error_page`](super::SettingsBuilder::error_page).
pub type RenderErrorPage = std::sync::Arc<dyn Fn(&ErrorPage) -> String + Send + Sync>;

impl RouteError {
    pub(crate) fn page(&self) -> ErrorPage {
        use RouteError::*;
        let (status, kind, title, message) = match self {
            Provider(OidcError::Unavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::ProviderUnavailable,
                "Identity provider unavailable",
                "The sign-in service cannot be reached right now. Please try again in a moment."
                    .to_owned(),
            ),
            Provider(
                OidcError::TokenExchange(_) | OidcError::IdToken(_) | OidcError::UserInfo(_),
            ) => (
                StatusCode::BAD_GATEWAY,
                ErrorKind::SignInFailed,
                "Sign-in failed",
                "The answer from the sign-in service could not be accepted, so you were not \
                 signed in. Please try again."
                    .to_owned(),
            ),
            ProviderRejected { code, description } => {
                let denied = matches!(
                    code.as_str(),
                    "access_denied"
                        | "login_required"
                        | "consent_required"
                        | "interaction_required"
                );
                let detail = description.as_deref().unwrap_or(code);
                (
                    if denied {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::BAD_GATEWAY
                    },
                    if denied {
                        ErrorKind::SignInCancelled
                    } else {
                        ErrorKind::SignInFailed
                    },
                    if denied {
                        "Sign-in cancelled"
                    } else {
                        "Sign-in failed"
                    },
                    format!(
                        "The sign-in service did not sign you in: “{}”.",
                        truncate(detail, MAX_PROVIDER_TEXT)
                    ),
                )
            }
            ProviderRejectedUnknownAttempt => (
                StatusCode::BAD_REQUEST,
                ErrorKind::SignInFailed,
                "Sign-in failed",
                "The sign-in did not complete. Please start again.".to_owned(),
            ),
            TooManyLogins { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::TooManyLogins,
                "Too many sign-in attempts",
                format!(
                    "This device started too many sign-ins in a short time. Please try again in \
                     {retry_after_secs} seconds."
                ),
            ),
            UnknownLoginAttempt => (
                StatusCode::BAD_REQUEST,
                ErrorKind::LoginExpired,
                "Sign-in link expired",
                "This sign-in attempt is unknown, has expired or was already used. \
                 Please start again."
                    .to_owned(),
            ),
            MissingCode | IssuerMismatch | MalformedQuery(_) => (
                StatusCode::BAD_REQUEST,
                ErrorKind::InvalidResponse,
                "Invalid sign-in response",
                "The sign-in response was incomplete or malformed. Please start again.".to_owned(),
            ),
            InvalidReturnTo(error) => (
                StatusCode::BAD_REQUEST,
                ErrorKind::InvalidReturnTo,
                "Invalid return address",
                error.to_string(),
            ),
            Session(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::SessionUnavailable,
                "Temporarily unavailable",
                "Your session could not be read or saved. Please try again in a moment.".to_owned(),
            ),
            CrossSite => (
                StatusCode::FORBIDDEN,
                ErrorKind::CrossSite,
                "Request refused",
                "This request did not come from this site, so it was refused.".to_owned(),
            ),
        };
        ErrorPage {
            status,
            kind,
            title,
            message,
            login_url: crate::paths::default_paths().login().to_owned(),
        }
    }
}

impl IntoResponse for RouteError {
    fn into_response(self) -> Response {
        let page = self.page();
        // One line naming the reason. Error texts never contain token strings: openidconnect's
        // errors describe the failed check, not the token.
        if page.status.is_server_error() {
            tracing::error!(status = page.status.as_u16(), reason = %self, "request failed");
        } else if page.status == StatusCode::TOO_MANY_REQUESTS {
            // A flood would otherwise flood the log too.
            tracing::debug!(status = page.status.as_u16(), reason = %self, "request refused");
        } else {
            tracing::warn!(status = page.status.as_u16(), reason = %self, "request refused");
        }
        let mut response = page.into_response();
        if let RouteError::TooManyLogins { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// The page with the default renderer; the page itself rides along in the response's
/// extensions, for the auth layer to render again with the app's paths and renderer
/// (`render_again`).
impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let mut response = (self.status, Html(default_page(&self))).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The 404 page for paths that are neither routes nor static files (the app's renderer's,
/// under [`Auth::layer`](super::Auth::layer)).
pub async fn not_found() -> Response {
    ErrorPage {
        status: StatusCode::NOT_FOUND,
        kind: ErrorKind::NotFound,
        title: "Page not found",
        message: "There is nothing at this address.".to_owned(),
        login_url: crate::paths::default_paths().login().to_owned(),
    }
    .into_response()
}

/// Renders again, with the app's login path and renderer, a response that carries an
/// [`ErrorPage`]; any other response is left as it is.
pub(crate) fn render_again(
    mut response: Response,
    login_path: &str,
    render: Option<&RenderErrorPage>,
) -> Response {
    let Some(page) = response.extensions_mut().get_mut::<ErrorPage>() else {
        return response;
    };
    if render.is_none() && page.login_url == login_path {
        return response;
    }
    login_path.clone_into(&mut page.login_url);
    let html = match render {
        Some(render) => render(page),
        None => default_page(page),
    };
    // The headers stay (Retry-After, the security headers); the length is the new body's.
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    *response.body_mut() = axum::body::Body::from(html);
    response
}

/// The crate's page: plain, unbranded and unstyled but readable, with a way to try again and
/// a way home. An app replaces it with its own ([`SettingsBuilder::error_page`]).
///
/// [`SettingsBuilder::error_page`]: super::SettingsBuilder::error_page
pub fn default_page(page: &ErrorPage) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body>
<main>
<h1 id="errorTitle">{title}</h1>
<p id="errorMessage">{message}</p>
<p><a href="{login}" id="tryAgain">Try again</a> · <a href="/" id="backHome">Back to home</a></p>
<p>Error {status}</p>
</main>
</body>
</html>"#,
        title = escape_html(page.title),
        message = escape_html(&page.message),
        login = escape_html(&page.login_url),
        status = page.status.as_u16(),
    )
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Text for HTML: element content or a double-quoted attribute value. For an app's own error
/// page ([`ErrorPage::message`] may quote the provider).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::id_token::IdTokenError;

    fn status_and_body(error: RouteError) -> (StatusCode, String) {
        let page = error.page();
        (page.status, default_page(&page))
    }

    #[test]
    fn each_error_maps_to_a_clear_status() {
        let cases = [
            (
                RouteError::Provider(OidcError::Unavailable("down".into())),
                503,
            ),
            (
                RouteError::Provider(OidcError::IdToken(IdTokenError::Invalid(
                    "bad nonce".into(),
                ))),
                502,
            ),
            (
                RouteError::Provider(OidcError::TokenExchange("500".into())),
                502,
            ),
            (RouteError::Provider(OidcError::UserInfo("sub".into())), 502),
            (RouteError::UnknownLoginAttempt, 400),
            (RouteError::MissingCode, 400),
            (RouteError::IssuerMismatch, 400),
            (RouteError::MalformedQuery("x".into()), 400),
            (RouteError::InvalidReturnTo(InvalidReturnTo), 400),
            (RouteError::CrossSite, 403),
        ];
        for (error, status) in cases {
            let name = format!("{error:?}");
            assert_eq!(status_and_body(error).0.as_u16(), status, "{name}");
        }
    }

    #[test]
    fn denied_login_is_forbidden_and_other_provider_errors_are_bad_gateway() {
        let denied = RouteError::ProviderRejected {
            code: "access_denied".into(),
            description: Some("The user cancelled".into()),
        };
        let (status, body) = status_and_body(denied);
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("The user cancelled"));
        assert!(body.contains(r#"href="/login""#), "a way to try again");

        let server_error = RouteError::ProviderRejected {
            code: "server_error".into(),
            description: None,
        };
        assert_eq!(status_and_body(server_error).0, StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn the_app_renders_the_page_with_its_login_path() {
        let render: RenderErrorPage = std::sync::Arc::new(|page: &ErrorPage| {
            format!(
                "<p>{:?} {} {}</p>",
                page.kind,
                page.status.as_u16(),
                page.login_url
            )
        });
        let response = RouteError::UnknownLoginAttempt.into_response();
        let response = render_again(response, "/auth/login", Some(&render));
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let page = response.extensions().get::<ErrorPage>().expect("the page");
        assert_eq!(page.kind, ErrorKind::LoginExpired);
        assert_eq!(page.login_url, "/auth/login");
        assert_eq!(
            render(page),
            "<p>LoginExpired 400 /auth/login</p>",
            "the app's renderer"
        );
        let body = default_page(page);
        assert!(body.contains(r#"href="/auth/login""#), "{body}");
        assert!(!body.contains("Authgear"), "the default page is unbranded");
    }

    #[test]
    fn provider_text_is_escaped_and_truncated() {
        let hostile = RouteError::ProviderRejected {
            code: "access_denied".into(),
            description: Some(format!("<script>alert(1)</script>{}", "x".repeat(500))),
        };
        let (_, body) = status_and_body(hostile);
        assert!(!body.contains("<script>"));
        assert!(body.contains("&lt;script&gt;"));
        assert!(!body.contains(&"x".repeat(MAX_PROVIDER_TEXT)));
    }
}
