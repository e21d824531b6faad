//! This app's error page, for the login's routes and for pages that do not exist: the app's
//! top bar and stylesheet around what `leptos-authgear` says went wrong.

use leptos_authgear::server::{escape_html as escape, ErrorPage};

/// The whole document for `page`.
pub fn render(page: &ErrorPage) -> String {
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
<div class="actions"><a class="button" href="{login}" id="tryAgain">Try again</a> <a class="button secondary" href="/" id="backHome">Back to home</a></div>
<p class="muted">Error {status}</p>
</section>
</main>
</body>
</html>"#,
        title = escape(page.title),
        message = escape(&page.message),
        login = escape(&page.login_url),
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

#[cfg(test)]
mod tests {
    use super::*;
    use leptos_authgear::server::ErrorKind;

    #[test]
    fn the_page_escapes_the_providers_text_and_links_the_login() {
        let page = ErrorPage {
            status: axum::http::StatusCode::FORBIDDEN,
            kind: ErrorKind::SignInCancelled,
            title: "Sign-in cancelled",
            message: "“<script>”".to_owned(),
            login_url: "/login".to_owned(),
        };
        let html = render(&page);
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains(r#"href="/login" id="tryAgain""#));
        assert!(html.contains("Error 403"));
    }
}
