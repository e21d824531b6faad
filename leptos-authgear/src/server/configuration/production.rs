//! The settings production asks for: the server's bounds ([`ServerLimits`]), the response
//! headers ([`SecurityHeaders`]), and the checks of a plain-http `APP_URL`.

use super::AppUrl;
use std::time::Duration;

/// What the server holds open at most and how long it waits, so that no client (or crowd of
/// them) can use up its memory or file descriptors. [`serve`](crate::server::serve) applies the
/// connection limits; the event-stream limits apply however the app is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open connections at most (`MAX_CONNECTIONS`, default 10,000): beyond it, new ones wait
    /// in the kernel's queue until one closes.
    pub max_connections: usize,
    /// A client must send a request's headers within this time of starting them
    /// (`HEADER_READ_TIMEOUT`, default 10 s), or its connection is closed (slowloris).
    pub header_read_timeout: Duration,
    /// Open `GET /session/events` streams at most, in all (`MAX_EVENT_STREAMS`, default 8,000):
    /// beyond it a new one gets 503 with `Retry-After`.
    pub max_event_streams: usize,
    /// Open event streams of one session at most (`MAX_EVENT_STREAMS_PER_SESSION`, default 3):
    /// a new one closes the oldest. A browser opens one (its tabs share it).
    pub max_event_streams_per_session: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            max_event_streams: 8_000,
            max_event_streams_per_session: 3,
        }
    }
}

impl ServerLimits {
    /// Every problem, by the variable's name.
    pub(super) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let counts = [
            ("MAX_CONNECTIONS", self.max_connections),
            ("MAX_EVENT_STREAMS", self.max_event_streams),
            (
                "MAX_EVENT_STREAMS_PER_SESSION",
                self.max_event_streams_per_session,
            ),
        ];
        for (variable, count) in counts {
            if count == 0 {
                problems.push((variable, "must be at least 1".to_owned()));
            }
        }
        if self.header_read_timeout.is_zero() || self.header_read_timeout > Duration::from_secs(300)
        {
            problems.push((
                "HEADER_READ_TIMEOUT",
                "must be between 1ms and 5m (e.g. 10s)".to_owned(),
            ));
        }
        problems
    }
}

/// The headers the auth layer adds to every response, each of which can be turned off (an app
/// that sets its own, or a proxy that does). A header the app's handler already set is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityHeaders {
    /// `Content-Security-Policy`: on pages rendered with
    /// [`page_security_policy`](crate::server::page_security_policy) one that allows this
    /// origin's scripts and the page's own inline ones (by their nonce); on everything else
    /// (error pages, JSON) one that allows no script at all. Both refuse framing.
    pub content_security_policy: bool,
    /// `Strict-Transport-Security: max-age=31536000` when `APP_URL` is https.
    pub strict_transport_security: bool,
    /// `X-Content-Type-Options: nosniff`.
    pub content_type_options: bool,
    /// `X-Frame-Options: DENY`, for browsers without `frame-ancestors`.
    pub frame_options: bool,
    /// `Referrer-Policy: no-referrer`: no URL of the app (nor the provider's redirect back,
    /// with its code) in another site's logs.
    pub referrer_policy: bool,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self {
            content_security_policy: true,
            strict_transport_security: true,
            content_type_options: true,
            frame_options: true,
            referrer_policy: true,
        }
    }
}

impl SecurityHeaders {
    /// None of them.
    pub fn none() -> Self {
        Self {
            content_security_policy: false,
            strict_transport_security: false,
            content_type_options: false,
            frame_options: false,
            referrer_policy: false,
        }
    }

    /// `SECURITY_HEADERS_OFF`: `all`, or a comma-separated list of `csp`, `hsts`, `nosniff`,
    /// `frame-options`, `referrer-policy`.
    pub(super) fn turning_off(list: &str) -> Result<Self, String> {
        let mut headers = Self::default();
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            match name.to_ascii_lowercase().as_str() {
                "all" => headers = Self::none(),
                "csp" => headers.content_security_policy = false,
                "hsts" => headers.strict_transport_security = false,
                "nosniff" => headers.content_type_options = false,
                "frame-options" => headers.frame_options = false,
                "referrer-policy" => headers.referrer_policy = false,
                _ => {
                    return Err(format!(
                        "`{name}` is not one of all, csp, hsts, nosniff, frame-options, \
                         referrer-policy"
                    ))
                }
            }
        }
        Ok(headers)
    }
}

/// A plain-http `APP_URL` is for this machine: anywhere else the session cookie would travel
/// without `Secure` (RFC 10017 B3), unless the app says it knows (`ALLOW_INSECURE_HTTP`).
pub(super) fn check_transport(app_url: &AppUrl, allow_insecure_http: bool) -> Result<(), String> {
    if app_url.is_https() || allow_insecure_http || app_url.is_loopback() {
        return Ok(());
    }
    Err(format!(
        "`{}` is plain http on a host other than localhost: cookies would travel without \
         `Secure`; serve the app over https (behind a proxy that terminates TLS, APP_URL is \
         the https address people use), or set ALLOW_INSECURE_HTTP=true for a private network",
        app_url.origin()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_this_machine_only_unless_allowed() {
        for local in [
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "http://127.5.6.7",
            "http://[::1]:3000",
            "https://app.example.com",
        ] {
            let url = AppUrl::parse(local).expect("valid");
            assert_eq!(check_transport(&url, false), Ok(()), "{local}");
        }
        let remote = AppUrl::parse("http://app.example.com").expect("valid");
        let error = check_transport(&remote, false).expect_err("refused");
        assert!(error.contains("ALLOW_INSECURE_HTTP=true"), "{error}");
        assert_eq!(check_transport(&remote, true), Ok(()));
        let lookalike = AppUrl::parse("http://localhost.example.com").expect("valid");
        assert!(check_transport(&lookalike, false).is_err());
    }

    #[test]
    fn headers_turn_off_by_name_and_unknown_names_are_refused() {
        let headers = SecurityHeaders::turning_off("hsts, CSP").expect("valid");
        assert!(!headers.strict_transport_security && !headers.content_security_policy);
        assert!(headers.content_type_options && headers.frame_options && headers.referrer_policy);
        assert_eq!(
            SecurityHeaders::turning_off("all"),
            Ok(SecurityHeaders::none())
        );
        assert!(SecurityHeaders::turning_off("cors").is_err());
    }

    #[test]
    fn limits_must_be_positive_and_the_timeout_sane() {
        assert!(ServerLimits::default().problems().is_empty());
        let bad = ServerLimits {
            max_connections: 0,
            header_read_timeout: Duration::ZERO,
            max_event_streams: 1,
            max_event_streams_per_session: 0,
        };
        let names: Vec<_> = bad.problems().into_iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "MAX_CONNECTIONS",
                "MAX_EVENT_STREAMS_PER_SESSION",
                "HEADER_READ_TIMEOUT"
            ]
        );
    }
}
