//! The one error type of the BFF's own routes, and the page a person sees for each case.

use crate::server::oidc::OidcError;
use crate::server::return_to::InvalidReturnTo;
use crate::server::session::SessionError;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

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

/// What the person sees: status, heading and explanation.
struct ErrorPage {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl RouteError {
    fn page(&self) -> ErrorPage {
        use RouteError::*;
        let (status, title, message) = match self {
            Provider(OidcError::Unavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Identity provider unavailable",
                "The sign-in service cannot be reached right now. Please try again in a moment."
                    .to_owned(),
            ),
            Provider(
                OidcError::TokenExchange(_) | OidcError::IdToken(_) | OidcError::UserInfo(_),
            ) => (
                StatusCode::BAD_GATEWAY,
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
                "Sign-in failed",
                "The sign-in did not complete. Please start again.".to_owned(),
            ),
            TooManyLogins { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-in attempts",
                format!(
                    "This device started too many sign-ins in a short time. Please try again in \
                     {retry_after_secs} seconds."
                ),
            ),
            UnknownLoginAttempt => (
                StatusCode::BAD_REQUEST,
                "Sign-in link expired",
                "This sign-in attempt is unknown, has expired or was already used. \
                 Please start again."
                    .to_owned(),
            ),
            MissingCode | IssuerMismatch | MalformedQuery(_) => (
                StatusCode::BAD_REQUEST,
                "Invalid sign-in response",
                "The sign-in response was incomplete or malformed. Please start again.".to_owned(),
            ),
            InvalidReturnTo(error) => (
                StatusCode::BAD_REQUEST,
                "Invalid return address",
                error.to_string(),
            ),
            Session(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "Your session could not be read or saved. Please try again in a moment.".to_owned(),
            ),
            CrossSite => (
                StatusCode::FORBIDDEN,
                "Request refused",
                "This request did not come from this site, so it was refused.".to_owned(),
            ),
        };
        ErrorPage {
            status,
            title,
            message,
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
        let mut response = (page.status, Html(render(&page))).into_response();
        if let RouteError::TooManyLogins { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// The 404 page for paths that are neither routes nor static files.
pub async fn not_found() -> Response {
    let page = ErrorPage {
        status: StatusCode::NOT_FOUND,
        title: "Page not found",
        message: "There is nothing at this address.".to_owned(),
    };
    (page.status, Html(render(&page))).into_response()
}

fn render(page: &ErrorPage) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Log in with Authgear</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body>
<header class="topbar"><a class="brand" href="/">Log in with Authgear</a></header>
<main class="page error-page">
<section class="card">
<h1 id="errorTitle">{title}</h1>
<p id="errorMessage">{message}</p>
<div class="actions"><a class="button" href="/login" id="tryAgain">Try again</a> <a class="button secondary" href="/" id="backHome">Back to home</a></div>
<p class="muted">Error {status}</p>
</section>
</main>
</body>
</html>"#,
        title = escape(page.title),
        message = escape(&page.message),
        status = page.status.as_u16(),
        stylesheet = stylesheet_path(),
    )
}

/// The app's stylesheet, where Leptos' build puts it: `/pkg/<LEPTOS_OUTPUT_NAME>.css` (the name
/// is set when the app is compiled, by cargo-leptos or `.cargo/config.toml`).
fn stylesheet_path() -> String {
    format!(
        "/pkg/{}.css",
        option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("app")
    )
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Text for HTML: element content or a double-quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
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
    use crate::server::oidc::IdTokenError;

    fn status_and_body(error: RouteError) -> (StatusCode, String) {
        let page = error.page();
        (page.status, render(&page))
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
