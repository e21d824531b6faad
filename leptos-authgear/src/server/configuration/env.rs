//! The environment's names for the settings: each variable is read into the same
//! [`SettingsBuilder`] an app fills in code. Text that is not a value of its kind is a problem
//! here; a value out of range is one the builder finds. Both are reported together.

use super::session::{parse_duration, StoreUrl};
use super::{
    ConfigError, EndSessionMethod, Problems, SecurityHeaders, ServerLimits, Settings,
    SettingsBuilder,
};
use crate::server::login_rate::LoginRateLimit;
use std::net::SocketAddr;

/// Reads every variable through `lookup` (blank counts as unset); the first name of each pair
/// is the Authgear guide's, the second a generic alias.
pub(super) fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
    let get = |names: &[&str]| {
        names.iter().find_map(|name| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        })
    };
    let mut problems = Problems::default();
    let mut builder = Settings::builder();

    let issuer = get(&["AUTHGEAR_DOMAIN", "OIDC_ISSUER"]);
    let client_id = get(&["AUTHGEAR_CLIENT_ID", "OIDC_CLIENT_ID"]);
    let client_secret = get(&["AUTHGEAR_CLIENT_SECRET", "OIDC_CLIENT_SECRET"]);
    if issuer.is_some() || client_id.is_some() || client_secret.is_some() {
        builder = builder.provider(
            issuer.as_deref().unwrap_or_default(),
            client_id.unwrap_or_default(),
            client_secret.unwrap_or_default(),
        );
    }
    if let Some(scopes) = get(&["AUTHGEAR_SCOPES", "OIDC_SCOPES"]) {
        builder = builder.scopes(scopes.split_ascii_whitespace());
    }
    if let Some(key) = get(&["APP_SECRET_KEY"]) {
        builder = builder.secret_key(key);
    }
    if let Some(url) = get(&["APP_URL"]) {
        builder = builder.app_url(&url);
    }
    if let Some(base) = get(&["AUTH_BASE_PATH"]) {
        builder = builder.base_path(&base);
    }
    let site_addr = problems.check(
        "LEPTOS_SITE_ADDR",
        get(&["LEPTOS_SITE_ADDR"])
            .map(|value| parse_site_addr(&value))
            .transpose(),
    );
    let port = problems.check(
        "PORT",
        get(&["PORT"]).map(|value| parse_port(&value)).transpose(),
    );
    if let (Some(site_addr), Some(port)) = (site_addr, port) {
        let mut addr = site_addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        if let Some(port) = port {
            addr.set_port(port);
        }
        builder = builder.listen_addr(addr);
    }
    let durations = [
        (
            "AUTHGEAR_DISCOVERY_MAX_AGE",
            SettingsBuilder::discovery_max_age as fn(_, _) -> _,
        ),
        ("SESSION_IDLE_TIMEOUT", SettingsBuilder::idle_timeout),
        ("SESSION_MAX_LIFETIME", SettingsBuilder::max_lifetime),
        (
            "RECENT_LOGIN_TO_END_SESSIONS",
            SettingsBuilder::recent_login_to_end_sessions,
        ),
    ];
    for (variable, set) in durations {
        if let Some(value) = get(&[variable]) {
            if let Some(duration) = problems.check(variable, parse_duration(&value)) {
                builder = set(builder, duration);
            }
        }
    }
    if let Some(value) = get(&["SESSION_CACHE_SIZE"]) {
        let parsed = value
            .parse::<usize>()
            .map_err(|_| format!("`{value}` is not a count"));
        if let Some(size) = problems.check("SESSION_CACHE_SIZE", parsed) {
            builder = builder.session_cache_size(size);
        }
    }
    if let Some(value) = get(&["LOGIN_RATE_LIMIT"]) {
        if let Some(limit) = problems.check("LOGIN_RATE_LIMIT", LoginRateLimit::parse(&value)) {
            builder = builder.login_rate_limit(limit);
        }
    }
    if let Some(secret) = get(&["AUTHGEAR_WEBHOOK_SECRET"]) {
        builder = builder.webhooks(secret);
    }
    if let Some(path) = get(&["AUTHGEAR_WEBHOOK_PATH"]) {
        builder = builder.webhook_path(path);
    }
    if let Some(value) = get(&["AUTHGEAR_END_SESSION_METHOD"]) {
        if let Some(method) = problems.check(
            "AUTHGEAR_END_SESSION_METHOD",
            parse_end_session_method(&value),
        ) {
            builder = builder.end_session_method(method);
        }
    }
    if let Some(list) = get(&["TRUSTED_PROXIES"]) {
        builder = builder.trusted_proxies(&list);
    }
    builder = builder.limits(read_limits(&get, &mut problems));
    if let Some(value) = get(&["SECURITY_HEADERS_OFF"]) {
        if let Some(headers) =
            problems.check("SECURITY_HEADERS_OFF", SecurityHeaders::turning_off(&value))
        {
            builder = builder.security_headers(headers);
        }
    }
    if let Some(value) = get(&["AUTHGEAR_UI_LOCALES"]) {
        builder = builder.ui_locales(&value);
    }
    // The switches: `true`/`false` (or `1`/`0`, `yes`/`no`), each to its builder method.
    let switches: [(&'static str, Switch); 4] = [
        (
            "UI_LOCALES_FROM_ACCEPT_LANGUAGE",
            SettingsBuilder::ui_locales_from_accept_language,
        ),
        ("SILENT_LOGIN_ONCE", SettingsBuilder::silent_login_once),
        (
            "AUTHGEAR_SETTINGS_SIGNED_IN",
            SettingsBuilder::settings_signed_in,
        ),
        ("ALLOW_INSECURE_HTTP", SettingsBuilder::allow_insecure_http),
    ];
    for (variable, set) in switches {
        if let Some(on) =
            get(&[variable]).and_then(|value| problems.check(variable, parse_bool(&value)))
        {
            builder = set(builder, on);
        }
    }
    if let Some(value) = get(&["CLOCK_SKEW"]) {
        // Zero is a valid skew (clocks kept in step), unlike a lifetime.
        let skew = humantime::parse_duration(&value)
            .map_err(|error| format!("`{value}`: {error} (e.g. 60s, or 0s)"));
        if let Some(skew) = problems.check("CLOCK_SKEW", skew) {
            builder = builder.clock_skew(skew);
        }
    }
    if let Some(value) = get(&["SESSION_STORE"]) {
        if let Some(store) = problems.check("SESSION_STORE", StoreUrl::parse(&value)) {
            builder = builder.session_store(store);
        }
    }

    let built = builder.build();
    // A variable whose text was refused here is not "missing" as well.
    let more = built
        .as_ref()
        .err()
        .map(|error| error.0.clone())
        .unwrap_or_default();
    for problem in more {
        if !problems.names(problem.variable) {
            problems.0.push(problem);
        }
    }
    if problems.0.is_empty() {
        return built;
    }
    problems.0.sort_by_key(|problem| order(problem.variable));
    Err(ConfigError(problems.0))
}

/// `MAX_CONNECTIONS`, `HEADER_READ_TIMEOUT`, `MAX_EVENT_STREAMS`,
/// `MAX_EVENT_STREAMS_PER_SESSION`, each defaulting to [`ServerLimits::default`]'s.
fn read_limits(get: &impl Fn(&[&str]) -> Option<String>, problems: &mut Problems) -> ServerLimits {
    let mut limits = ServerLimits::default();
    let counts: [(&'static str, &mut usize); 3] = [
        ("MAX_CONNECTIONS", &mut limits.max_connections),
        ("MAX_EVENT_STREAMS", &mut limits.max_event_streams),
        (
            "MAX_EVENT_STREAMS_PER_SESSION",
            &mut limits.max_event_streams_per_session,
        ),
    ];
    for (variable, count) in counts {
        if let Some(value) = get(&[variable]) {
            let parsed = value
                .parse::<usize>()
                .map_err(|_| format!("`{value}` is not a count"));
            if let Some(parsed) = problems.check(variable, parsed) {
                *count = parsed;
            }
        }
    }
    if let Some(value) = get(&["HEADER_READ_TIMEOUT"]) {
        let parsed = humantime::parse_duration(&value)
            .map_err(|error| format!("`{value}`: {error} (e.g. 10s)"));
        if let Some(timeout) = problems.check("HEADER_READ_TIMEOUT", parsed) {
            limits.header_read_timeout = timeout;
        }
    }
    limits
}

/// A builder method that turns a setting on or off.
type Switch = fn(SettingsBuilder, bool) -> SettingsBuilder;

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("`{value}` is neither true nor false")),
    }
}

/// Problems are listed in the order of `.env.example`.
fn order(variable: &str) -> usize {
    const ORDER: [&str; 31] = [
        "AUTHGEAR_DOMAIN",
        "AUTHGEAR_CLIENT_ID",
        "AUTHGEAR_CLIENT_SECRET",
        "AUTHGEAR_SCOPES",
        "AUTHGEAR_DISCOVERY_MAX_AGE",
        "AUTHGEAR_UI_LOCALES",
        "UI_LOCALES_FROM_ACCEPT_LANGUAGE",
        "SILENT_LOGIN_ONCE",
        "AUTHGEAR_SETTINGS_SIGNED_IN",
        "APP_SECRET_KEY",
        "APP_URL",
        "AUTH_BASE_PATH",
        "LEPTOS_SITE_ADDR",
        "PORT",
        "SESSION_STORE",
        "SESSION_IDLE_TIMEOUT",
        "SESSION_MAX_LIFETIME",
        "SESSION_CACHE_SIZE",
        "RECENT_LOGIN_TO_END_SESSIONS",
        "LOGIN_RATE_LIMIT",
        "AUTHGEAR_WEBHOOK_SECRET",
        "AUTHGEAR_WEBHOOK_PATH",
        "AUTHGEAR_END_SESSION_METHOD",
        "TRUSTED_PROXIES",
        "ALLOW_INSECURE_HTTP",
        "MAX_CONNECTIONS",
        "HEADER_READ_TIMEOUT",
        "MAX_EVENT_STREAMS",
        "MAX_EVENT_STREAMS_PER_SESSION",
        "SECURITY_HEADERS_OFF",
        "CLOCK_SKEW",
    ];
    ORDER
        .iter()
        .position(|name| *name == variable)
        .unwrap_or(ORDER.len())
}

fn parse_end_session_method(value: &str) -> Result<EndSessionMethod, String> {
    match value.to_ascii_lowercase().as_str() {
        "post" => Ok(EndSessionMethod::Post),
        "get" => Ok(EndSessionMethod::Get),
        _ => Err(format!("`{value}` is neither `post` nor `get`")),
    }
}

fn parse_site_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not an address like 127.0.0.1:3000"))
}

fn parse_port(value: &str) -> Result<u16, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not a port number (0-65535)"))
}

#[cfg(test)]
mod tests;
