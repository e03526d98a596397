//! The install, as an admin does it in the webapp: `/apps install http …`, then the consent
//! modal with the app's JWT secret.

use crate::client::APPS_API;
use crate::story::{expect_error, expect_ok, Story, APP_ID};
use crate::support::app::new_secret;

#[tokio::test]
async fn a_wrong_jwt_secret_fails_the_install_and_the_right_one_installs() {
    let story = Story::begin().await;

    let text = expect_error(&story.install(&new_secret()).await);
    assert!(text.contains("failed to install"), "{text}");
    assert!(text.contains("/ping"), "the error names the ping: {text}");
    let ping = story.tap.last("/ping");
    assert!(ping.has_jwt, "the plugin signs the ping");
    assert_eq!(
        ping.status, 401,
        "the app refuses a JWT signed with another secret"
    );
    let (status, _) = story
        .admin
        .request("GET", &format!("{APPS_API}/apps/{APP_ID}"), None)
        .await;
    assert_ne!(status, 200, "nothing was installed");

    story.tap.clear();
    let secret = story.app.secret.clone();
    let text = expect_ok(&story.install(&secret).await);
    assert!(text.contains("Installed"), "{text}");
    let (status, app) = story
        .admin
        .request("GET", &format!("{APPS_API}/apps/{APP_ID}"), None)
        .await;
    assert_eq!(status, 200, "{app}");
    let log = story.tap.log();
    assert!(
        log.iter().any(|e| e.path == "/ping"),
        "{:?}",
        story.tap.paths()
    );
    for exchange in log.iter().filter(|e| e.method == "POST") {
        assert!(exchange.has_jwt, "{} came without a JWT", exchange.path);
        assert_eq!(
            exchange.status, 200,
            "{}: {}",
            exchange.path, exchange.status
        );
    }
    let on_install = story.tap.last("/install");
    assert_eq!(
        on_install.jwt_claims["acting_user_id"],
        serde_json::json!(story.admin.user.id),
        "the JWT names the admin who installed"
    );
}
