//! Parses the settings, starts logging, runs the server; nothing else.

use clap::Parser;
use hello_oauth2_rs::settings::{secrets_from_env, Cli, SecretSource, Settings};
use hello_oauth2_rs::startup::Application;
use hello_oauth2_rs::{logging, metrics};

fn main() {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    metrics::count_panics();
    // Settings first, with blocking file I/O, before the runtime starts.
    let resolved = secrets_from_env().and_then(|secrets| Settings::from_cli(cli, secrets));
    let (settings, source) = match resolved {
        Ok(resolved) => resolved,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    };
    let install = format!(
        "/apps install http {}/manifest.json",
        settings.root_url_str()
    );
    match source {
        SecretSource::Given => log::info!("install with: {install}"),
        SecretSource::File => log::info!(
            "install with: {install} (the Outgoing JWT Secret is in {})",
            settings.secret_file.display()
        ),
        SecretSource::Generated => {
            // Printed on purpose, this once, to the operator's terminal (not through the
            // logger): the admin must paste it at the install consent step. Later starts
            // read it from the file and do not print it (container logs keep stdout).
            println!("Install in Mattermost with:\n  {install}\nand enter this Outgoing JWT Secret at the consent step:\n  {}\n(kept in {}; it is not printed again)", settings.secret.expose_secret(), settings.secret_file.display());
        }
    }
    if let Err(err) = run(settings) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

#[actix_web::main]
async fn run(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings)?;
    log::info!("listening on port {}", app.port());
    if let Some(port) = app.metrics_port() {
        log::info!("serving metrics on port {port} at /metrics");
    }
    app.run_until_terminated().await?;
    log::info!("stopped");
    Ok(())
}
