//! The site's static files: `target/site` as scripts/build (or `cargo leptos watch`) writes it.
//!
//! A release site (`LEPTOS_ENV=PROD`) whose `pkg/content-hash` names its bundle is served under
//! the content-hashed names `<name>.<hash>.{js,wasm,css}`: Leptos' `HydrationScripts` and the
//! shell link `<output_name>.{js,wasm,css}`, so the output name becomes `<name>.<hash>`. Those
//! files are `immutable` for a year (a new build has new names) and go out precompressed
//! (`.br`, `.gz`) to a browser that accepts it. A development site (`cargo leptos watch`) has
//! neither: its files change under the same names, and a release build's leftovers must not
//! shadow them.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos_authgear::server::not_found;
use std::path::Path;
use tower_http::services::ServeDir;

/// What a year-long, never-revalidated cache entry is told.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The release bundle's content hash, when this is a release site that has one.
pub fn bundle_hash(options: &LeptosOptions) -> Option<String> {
    if options.env != Env::PROD {
        return None;
    }
    let file = Path::new(&*options.site_root)
        .join(&*options.site_pkg_dir)
        .join("content-hash");
    let hash = std::fs::read_to_string(file).ok()?;
    let hash = hash.trim();
    (!hash.is_empty() && hash.bytes().all(|byte| byte.is_ascii_hexdigit())).then(|| hash.to_owned())
}

/// `options` linking the hashed bundle, when there is one (see the module).
pub fn with_hashed_bundle(mut options: LeptosOptions, hash: Option<&str>) -> LeptosOptions {
    if let Some(hash) = hash {
        options.output_name = format!("{}.{hash}", options.output_name).into();
    }
    options
}

/// The static files under `site_root`, with what the module says about a release bundle
/// (`hash`); any other path is the app's 404 page.
pub fn static_files(options: &LeptosOptions, hash: Option<&str>) -> Router {
    let files = ServeDir::new(&*options.site_root).not_found_service(get(not_found));
    let Some(hash) = hash else {
        return Router::new().fallback_service(files);
    };
    let files = files.precompressed_br().precompressed_gzip();
    let marker: std::sync::Arc<str> = format!(".{hash}.").into();
    Router::new()
        .fallback_service(files)
        .layer(from_fn(move |request: Request, next: Next| {
            let immutable = request.uri().path().contains(&*marker);
            async move {
                let mut response: Response = next.run(request).await;
                if immutable && response.status() == StatusCode::OK {
                    response
                        .headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
                }
                response
            }
        }))
}
