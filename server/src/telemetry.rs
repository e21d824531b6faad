//! Logging: `tracing` to stderr, level from `RUST_LOG` (default `info`), human-readable or, with
//! `LOG_FORMAT=json`, one JSON object per line. Every request runs in a span carrying its
//! request id (the `x-request-id` it came with, if sane, else a new one), which each of its log
//! lines shows and the response echoes.
//!
//! Nothing at info level carries a token or secret: handlers log subjects and reasons only.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use std::hash::{BuildHasher, RandomState};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use tracing::Span;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::{format, FormatFields};
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_sessions=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colours only for a person at a terminal: not in files and journals, where they are
        // noise and cost time on every line.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.fmt_fields(plain_fields()).init();
    }
}

/// Fields as `name=value`, an event's message bare. The default formatter styles each field's
/// name even without colours, on every request's span (bench/README.md). Control characters
/// are escaped in every field and in the message, `Display` ones (`%value`) included, so that
/// no value (a decoded query string in an error, say) can start a forged line.
fn plain_fields() -> impl for<'writer> FormatFields<'writer> {
    format::debug_fn(|writer, field, value| {
        use std::fmt::Write;
        // Field names are identifiers in the code: only values go through the escaping.
        if field.name() != "message" {
            writer.write_str(field.name())?;
            writer.write_char('=')?;
        }
        write!(Escaped(writer), "{value:?}")
    })
    .delimited(" ")
}

/// Writes through, with control characters as `\n`, `\u{1b}`, ….
struct Escaped<'a, 'writer>(&'a mut format::Writer<'writer>);

impl std::fmt::Write for Escaped<'_, '_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        // The usual case, checked a byte at a time: no C0 control, no DEL, and no 0xC2 (the
        // first byte of every C1 control in UTF-8).
        if !text
            .bytes()
            .any(|byte| byte < 0x20 || byte == 0x7f || byte == 0xc2)
        {
            return self.0.write_str(text);
        }
        let mut rest = text;
        while let Some(at) = rest.find(char::is_control) {
            self.0.write_str(&rest[..at])?;
            let control = rest[at..].chars().next().unwrap_or_default();
            write!(self.0, "{}", control.escape_default())?;
            rest = &rest[at + control.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// The `request` span for `request`, with its id, method and path; and that id, for the
/// response's `x-request-id` (see `every_response`).
pub fn request_span(request: &Request) -> (Span, HeaderValue) {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .filter(|id| id.to_str().is_ok_and(is_sane))
        .cloned()
        .unwrap_or_else(new_id);
    let span = tracing::info_span!(
        "request",
        id = %id.to_str().unwrap_or_default(),
        method = %request.method(),
        path = %request.uri().path(),
    );
    (span, id)
}

/// An incoming id is kept only if it cannot forge log lines or bloat them.
fn is_sane(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// 16 hex digits: a counter from a random start, mixed (a bijection, so no two requests of one
/// process share an id) so that ids do not look sequential. Unique enough to find one request's
/// lines, and it needs no random bytes from the CSPRNG on every request (bench/README.md).
/// Request ids are not secrets.
fn new_id() -> HeaderValue {
    static START: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| RandomState::new().hash_one("request ids"));
    let mut n = start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed));
    // splitmix64's finaliser.
    n = (n ^ (n >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    n = (n ^ (n >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    n ^= n >> 31;
    let mut text = [0u8; 16];
    for (i, digit) in text.iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static("no-id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a subscriber writes, for reading back.
    #[derive(Clone, Default)]
    struct Written(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Written {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("not poisoned")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_carry_the_request_span_and_no_field_forges_a_line() {
        let written = Written::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_target(false)
            .with_writer({
                let written = written.clone();
                move || written.clone()
            })
            .fmt_fields(plain_fields())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", id = %"r1", path = %"/callback");
            let _entered = span.enter();
            tracing::info!(subject = %"s-1", refreshes = 2, "signed in");
            tracing::warn!(name = "a\nforged=line", quote = "\"", "odd");
            tracing::warn!(reason = %"bad\r\nforged=line", "display {}", "a\nb\u{1b}");
        });
        let text =
            String::from_utf8(written.0.lock().expect("not poisoned").clone()).expect("utf-8");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].ends_with("request{id=r1 path=/callback}: signed in subject=s-1 refreshes=2"),
            "{text}"
        );
        assert!(
            lines[1].ends_with(r#"odd name="a\nforged=line" quote="\"""#),
            "{text}"
        );
        assert!(
            lines[2].ends_with(r"display a\nb\u{1b} reason=bad\r\nforged=line"),
            "{text}"
        );
    }

    #[test]
    fn only_sane_incoming_ids_are_kept() {
        assert!(is_sane("3f2a-b_c.9"));
        for bad in ["", "a b", "x\ny", "ünï", &"a".repeat(65), "id\"}{"] {
            assert!(!is_sane(bad), "{bad:?}");
        }
        let id = new_id();
        let text = id.to_str().expect("ascii");
        assert!(is_sane(text) && text.len() == 16, "{text}");
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| new_id()).collect();
        assert!(ids.len() == 10_000 && !ids.contains(&id));
    }
}
