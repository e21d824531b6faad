use server::configuration::Settings;
use server::startup::Application;
use std::process::ExitCode;

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
    let leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("Leptos configuration (LEPTOS_* variables): {error}");
            return ExitCode::FAILURE;
        }
    };
    let app_url = settings.app_url.clone();
    let application = match Application::build(settings, leptos_options).await {
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
