//! The pages [`Auth::leptos_routes`](super::Auth::leptos_routes) has rendered, kept to be sent
//! again with a new nonce: a page of this crate's renderer depends on its path and on who is
//! signed in ([`AuthState`]) and on nothing else (docs/decisions/0007-pages-rendered-once-per-state.md),
//! so the same path for the same state is the same page but for its nonce.

use crate::AuthState;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use leptos_axum::ResponseOptions;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

/// What a page is rendered from: its path (a request with a query string is never cached) and
/// the state the auth layer found.
#[derive(PartialEq)]
pub(super) struct PageKey {
    pub(super) path: String,
    pub(super) state: AuthState,
}

// `AuthState` has no float: its equality is total.
impl Eq for PageKey {}

/// Hashes the path and the few fields that tell states apart cheaply, not the claims' text
/// (a kilobyte); equal keys still hash alike, and the map compares whole keys.
impl Hash for PageKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.path.hash(state);
        self.state.session_ended.hash(state);
        if let Some(user) = &self.state.user {
            user.subject.hash(state);
            user.session_ends_at.hash(state);
            user.access_token_expires_at.hash(state);
        }
    }
}

/// The rendered pages, up to a number of bytes.
pub(super) struct PageCache {
    pages: RwLock<Pages>,
    limit: usize,
}

/// A signed-in page of the demo app is about 8 KB: room for 2,000 of them.
pub(super) const PAGE_CACHE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct Pages {
    by_key: HashMap<PageKey, Arc<Rendered>>,
    bytes: usize,
}

impl PageCache {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            pages: RwLock::default(),
            limit,
        }
    }

    pub(super) fn get(&self, key: &PageKey) -> Option<Arc<Rendered>> {
        let pages = self.pages.read().unwrap_or_else(PoisonError::into_inner);
        pages.by_key.get(key).cloned()
    }

    pub(super) fn insert(&self, key: PageKey, rendered: Rendered) {
        let path_len = key.path.len();
        let size = rendered.size() + path_len;
        if size > self.limit {
            return;
        }
        // Each change is one insert or remove and its count: a poisoned lock is still good.
        let mut pages = self.pages.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(replaced) = pages.by_key.remove(&key) {
            pages.bytes -= replaced.size() + path_len;
        }
        while pages.bytes + size > self.limit {
            // An arbitrary one, at no cost: it is rendered again when it is asked for.
            let Some(victim) = pages.by_key.keys().next().map(|key| PageKey {
                path: key.path.clone(),
                state: key.state.clone(),
            }) else {
                break;
            };
            if let Some(gone) = pages.by_key.remove(&victim) {
                pages.bytes -= gone.size() + victim.path.len();
            }
        }
        pages.by_key.insert(key, Arc::new(rendered));
        pages.bytes += size;
    }
}

/// A rendered page cut at its nonce, to be sent again with another.
pub(super) struct Rendered {
    status: StatusCode,
    headers: Vec<(header::HeaderName, Template)>,
    html: Template,
}

impl Rendered {
    pub(super) fn new((html, options): (String, ResponseOptions), nonce: &str) -> Self {
        let set = options.0.read().unwrap_or_else(PoisonError::into_inner);
        let headers = set
            .headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.clone(), Template::new(value.to_str().ok()?, nonce)))
            })
            .collect();
        Self {
            status: set.status.unwrap_or(StatusCode::OK),
            headers,
            html: Template::new(&html, nonce),
        }
    }

    pub(super) fn respond(&self, nonce: &str) -> Response {
        let mut response = Response::new(Body::from(self.html.fill(nonce)));
        *response.status_mut() = self.status;
        let headers: &mut HeaderMap = response.headers_mut();
        // Room for these and the ones every response gets, without growing the map.
        headers.reserve(self.headers.len() + 8);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(&value.fill(nonce)) {
                headers.insert(name.clone(), value);
            }
        }
        response
    }

    /// False when the render set a cookie: a cookie is this response's, never another's.
    pub(super) fn may_be_sent_again(&self) -> bool {
        !self
            .headers
            .iter()
            .any(|(name, _)| name == header::SET_COOKIE)
    }

    /// The bytes it holds, roughly (the text; not the allocations' overhead).
    fn size(&self) -> usize {
        self.html.size()
            + self
                .headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.size())
                .sum::<usize>()
    }
}

/// Text cut at every occurrence of a nonce.
struct Template {
    pieces: Vec<String>,
}

impl Template {
    fn new(text: &str, nonce: &str) -> Self {
        Self {
            pieces: text.split(nonce).map(str::to_owned).collect(),
        }
    }

    fn fill(&self, nonce: &str) -> String {
        let mut text = String::with_capacity(self.size() + nonce.len() * self.pieces.len());
        for (index, piece) in self.pieces.iter().enumerate() {
            if index > 0 {
                text.push_str(nonce);
            }
            text.push_str(piece);
        }
        text
    }

    fn size(&self) -> usize {
        self.pieces.iter().map(String::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::{PageCache, PageKey, Rendered, Template};
    use crate::AuthState;
    use leptos_axum::ResponseOptions;

    #[test]
    fn a_page_that_sets_a_cookie_is_not_sent_again() {
        let plain = ResponseOptions::default();
        assert!(Rendered::new(("page".into(), plain), "n").may_be_sent_again());
        let with_cookie = ResponseOptions::default();
        with_cookie.insert_header(
            axum::http::header::SET_COOKIE,
            axum::http::HeaderValue::from_static("pref=1"),
        );
        assert!(!Rendered::new(("page".into(), with_cookie), "n").may_be_sent_again());
    }

    #[test]
    fn the_cache_keeps_within_its_bytes() {
        let cache = PageCache::new(100);
        let key = |path: &str| PageKey {
            path: path.into(),
            state: AuthState {
                user: None,
                session_ended: false,
                account_settings_url: None,
            },
        };
        let page = || Rendered::new(("x".repeat(38), ResponseOptions::default()), "nonce");
        for path in ["/a", "/b", "/c"] {
            cache.insert(key(path), page());
        }
        let pages = cache.pages.read().expect("lock");
        assert_eq!(pages.bytes, 80, "two pages of 38 + 2 bytes");
        assert_eq!(pages.by_key.len(), 2);
        assert!(pages.by_key.contains_key(&key("/c")), "the newest stays");
        drop(pages);
        // Too big to keep at all.
        cache.insert(
            key("/d"),
            Rendered::new(("x".repeat(200), ResponseOptions::default()), "n"),
        );
        assert!(cache.get(&key("/d")).is_none());
        // The same key again replaces it, and counts once.
        cache.insert(key("/c"), page());
        assert_eq!(cache.pages.read().expect("lock").bytes, 80);
    }

    #[test]
    fn a_template_takes_a_new_nonce_everywhere() {
        let template = Template::new("<script nonce=\"N0nce\">a</script><p>N0nce</p>", "N0nce");
        for nonce in ["first", "second-one"] {
            assert_eq!(
                template.fill(nonce),
                format!("<script nonce=\"{nonce}\">a</script><p>{nonce}</p>")
            );
        }
    }
}
