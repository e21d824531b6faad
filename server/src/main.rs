use leptos_authgear::server::{check_provider, Settings};
use server::startup::Application;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: the page and its session cost many small allocations,
/// and glibc's malloc was a large share of a page view's CPU time (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is fine: the environment may carry everything.
    let dotenv = dotenvy::dotenv();
    server::telemetry::init();
    if let Err(error) = dotenv {
        if !error.not_found() {
            eprintln!("Cannot read .env: {error}");
            return ExitCode::FAILURE;
        }
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::args().any(|arg| arg == "--check-config") {
        return check_config(settings).await;
    }
    let leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("Leptos configuration (LEPTOS_* variables): {error}");
            return ExitCode::FAILURE;
        }
    };
    let app_url = settings.app_url().clone();
    // The bundled local provider, not a real Authgear project (`scripts/dev` sets it): the home
    // page says so.
    let demo = match std::env::var("LOCAL_DEMO_PROVIDER").as_deref() {
        Err(_) | Ok("" | "0" | "false" | "no") => app::DemoProvider(false),
        Ok("1" | "true" | "yes") => app::DemoProvider(true),
        Ok(other) => {
            eprintln!("LOCAL_DEMO_PROVIDER: `{other}` is not true or false");
            return ExitCode::FAILURE;
        }
    };
    let application = match Application::build(settings, leptos_options, demo).await {
        Ok(application) => application,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        port = application.port(),
        url = app_url.origin(),
        "listening"
    );
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--check-config`: the configuration is valid (checked above), the session store answers
/// and the provider's discovery document loads; prints what was found. Exit 0 or 1.
async fn check_config(settings: Settings) -> ExitCode {
    println!("Configuration: OK");
    println!("app URL: {}", settings.app_url().origin());
    println!("redirect URI: {}", settings.redirect_uri());
    println!(
        "post-logout redirect URI: {}",
        settings.post_logout_redirect_uri()
    );
    println!("listen address: {}", settings.listen_addr());
    let proxies = settings.trusted_proxies();
    if proxies.is_empty() {
        println!("client address: the connection's peer (no TRUSTED_PROXIES)");
    } else {
        println!("client address: X-Forwarded-For from the trusted proxies {proxies}");
    }
    let limits = settings.limits();
    println!(
        "limits: {} connections, headers within {:?}, {} event streams ({} per session)",
        limits.max_connections,
        limits.header_read_timeout,
        limits.max_event_streams,
        limits.max_event_streams_per_session
    );
    match settings.webhooks() {
        Some(webhooks) => println!(
            "Authgear webhooks: on, at {}{} (events: user.signed_out, user.session.terminated, \
             user.disabled, user.deleted)",
            settings.app_url().origin(),
            webhooks.path()
        ),
        None => println!("Authgear webhooks: off (AUTHGEAR_WEBHOOK_SECRET is not set)"),
    }
    println!(
        "logout at the provider: {}",
        match settings.end_session_method() {
            leptos_authgear::server::EndSessionMethod::Post => "POST form (no token in any URL)",
            leptos_authgear::server::EndSessionMethod::Get =>
                "GET redirect (AUTHGEAR_END_SESSION_METHOD=get)",
        }
    );
    let store = match leptos_authgear::server::check_store(&settings).await {
        Ok(()) => {
            println!("Session store: OK ({})", settings.session().store);
            true
        }
        Err(error) => {
            eprintln!(
                "Session store: FAILED ({})\n{error}",
                settings.session().store
            );
            false
        }
    };
    let provider = match check_provider(&settings).await {
        Ok(description) => {
            println!("Provider discovery: OK\n{description}");
            true
        }
        Err(error) => {
            eprintln!("Provider discovery: FAILED\n{error}");
            false
        }
    };
    if store && provider {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
