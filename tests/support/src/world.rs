//! A whole test world: the Mattermost emulator, the fake provider and the real app, the app
//! installed, and the usual users.

use serde_json::Value;

use mattermost_apps_testkit::mattermost::{Mattermost, User, Walk};
use mattermost_apps_testkit::provider::Provider;
pub use mattermost_apps_testkit::response::{expect_error, expect_ok, kind, text};
use mattermost_apps_testkit::util::{random_token, within};

use crate::app::{new_secret, TestApp};

/// The app's slash command.
pub const COMMAND: &str = "/hello-oauth2-rs";

/// Emulator + provider + app, installed, with `sam.admin`, `alice` and `bob`.
pub struct World {
    /// The Mattermost emulator.
    pub mm: Mattermost,
    /// The fake OAuth2 provider.
    pub provider: Provider,
    /// The app.
    pub app: TestApp,
    /// A system admin.
    pub sam: User,
    /// A regular user.
    pub alice: User,
    /// Another regular user.
    pub bob: User,
}

impl World {
    /// Starts everything and installs the app as `sam.admin`.
    pub async fn new() -> Self {
        Self::with_app(TestApp::spawn(&new_secret()).await).await
    }

    /// Starts the emulator and the provider and installs `app`.
    pub async fn with_app(app: TestApp) -> Self {
        let mm = Mattermost::start().await;
        let provider = Provider::start(&random_token("client-", 9), &random_token("cs-", 18)).await;
        let sam = mm.create_user("sam.admin", "system_admin system_user");
        let alice = mm.create_user("alice", "system_user");
        let bob = mm.create_user("bob", "system_user");
        let message = within(
            "install",
            mm.install(&app.manifest_url(), &app.secret, &sam),
        )
        .await
        .unwrap_or_else(|e| panic!("install failed: {e}"));
        assert!(
            message.starts_with("Installed app `hello-oauth2-rs`"),
            "{message}"
        );
        provider.register_redirect_uri(&mm.complete_url());
        Self {
            mm,
            provider,
            app,
            sam,
            alice,
            bob,
        }
    }

    /// The configure command for the fake provider as a `custom` provider.
    pub fn configure_command(&self) -> String {
        let p = &self.provider;
        format!(
            "{COMMAND} configure --provider custom --client-id {} --client-secret {} \
             --auth-url {} --token-url {} --userinfo-url {} --revoke-url {} --scopes \"openid profile\"",
            p.client_id(),
            p.client_secret(),
            p.authorize_url(),
            p.token_url(),
            p.userinfo_url(),
            p.revoke_url()
        )
    }

    /// Runs `command` as `user` and returns the response (a parse error panics).
    pub async fn run(&self, user: &User, command: &str) -> Value {
        within(command, self.mm.command(user, command))
            .await
            .unwrap_or_else(|e| panic!("the client refused {command:?}: {e}"))
    }

    /// Configures the fake provider as `sam.admin`, and checks it was stored.
    pub async fn configure_custom_provider(&self) {
        let response = self.run(&self.sam, &self.configure_command()).await;
        expect_ok(&response);
        let stored = self.mm.stored_oauth2_app().expect("the client was stored");
        assert_eq!(stored["client_id"], self.provider.client_id());
    }

    /// Walks the browser flow as `user` and returns the walk.
    pub async fn walk(&self, user: &User) -> Walk {
        let browser = self.mm.browser(user).await;
        within("the browser flow", browser.walk(&self.mm.connect_url())).await
    }

    /// Connects `user` through the browser flow and checks the stored token is theirs.
    pub async fn connect(&self, user: &User) -> Value {
        let walk = self.walk(user).await;
        assert!(
            walk.completed(),
            "the flow did not complete: {:#?}",
            walk.last()
        );
        let token = self.mm.stored_token(user).expect("a token is stored");
        let access = token["access_token"].as_str().expect("an access token");
        assert_eq!(
            self.provider.owner_of(access).as_deref(),
            Some(user.username.as_str())
        );
        token
    }
}
