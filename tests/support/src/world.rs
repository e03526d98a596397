//! A whole test world: the Mattermost emulator, the fake provider and the real app, the app
//! installed, and the usual users.

use hello_oauth2_rs::oauth::client_secret::open_client_secret;
use hello_oauth2_rs::oauth::StoredToken;
use hello_oauth2_rs::seal::KeyRing;
use mattermost_apps::secret::ExposeSecret;
use mattermost_apps::OAuth2Context;
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

/// The app's ID (the manifest's), part of where its sealed values belong.
pub const APP_ID: &str = "hello-oauth2-rs";

/// `user`'s token stored in `mm`, opened with `keys` (one stored in plain text as it is);
/// `None` when none is stored. One that does not open panics.
pub fn opened_token(mm: &Mattermost, keys: &KeyRing, user: &User) -> Option<Value> {
    open_token(&mm.stored_token(user)?, keys, &user.id)
}

/// The token of the user `user_id` as stored (`value`, e.g. a context's `oauth2.user`),
/// opened with `keys`; `None` when it is no token. One that does not open panics.
pub fn open_token(value: &Value, keys: &KeyRing, user_id: &str) -> Option<Value> {
    let token = StoredToken::open(value, keys, APP_ID, user_id)
        .unwrap_or_else(|err| panic!("the stored token does not open: {err}"))?;
    Some(serde_json::to_value(token).expect("a token serialises"))
}

/// A stored OAuth2 client (`stored`) with its secret opened with `keys` (one stored in
/// plain text as it is). One that does not open panics.
pub fn opened_oauth2_app(mut stored: Value, keys: &KeyRing) -> Value {
    let oauth2: OAuth2Context =
        serde_json::from_value(stored.clone()).expect("the stored client reads");
    let secret = open_client_secret(&oauth2, keys, APP_ID)
        .unwrap_or_else(|err| panic!("the stored client secret does not open: {err}"));
    if !secret.expose_secret().is_empty() {
        stored["client_secret"] = Value::from(secret.expose_secret());
    }
    stored
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
        let stored = self.stored_oauth2_app().expect("the client was stored");
        assert_eq!(stored["client_id"], self.provider.client_id());
    }

    /// `user`'s stored token as the app reads it: opened with the app's keys (one stored in
    /// plain text as it is); `None` when none is stored. One that does not open panics.
    pub fn stored_token(&self, user: &User) -> Option<Value> {
        opened_token(&self.mm, &self.app.token_keys, user)
    }

    /// The stored OAuth2 client with its secret opened with the app's keys.
    pub fn stored_oauth2_app(&self) -> Option<Value> {
        Some(opened_oauth2_app(
            self.mm.stored_oauth2_app()?,
            &self.app.token_keys,
        ))
    }

    /// Walks the browser flow as `user` and returns the walk.
    pub async fn walk(&self, user: &User) -> Walk {
        let browser = self.mm.browser(user).await;
        within("the browser flow", browser.walk(&self.mm.connect_url())).await
    }

    /// Connects `user` through the browser flow and checks the stored token is theirs.
    /// Returns once the app's bot has sent (or tried to send) its confirmation, so the
    /// provider requests that makes (userinfo) never mix with the story's next ones.
    pub async fn connect(&self, user: &User) -> Value {
        let tried = || self.mm.direct_messages_to(user).len() + self.mm.posting_refused();
        let before = tried();
        let walk = self.walk(user).await;
        assert!(
            walk.completed(),
            "the flow did not complete: {:#?}",
            walk.last()
        );
        within("the bot's confirmation", async {
            while tried() == before {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await;
        let token = self.stored_token(user).expect("a token is stored");
        let access = token["access_token"].as_str().expect("an access token");
        assert_eq!(
            self.provider.owner_of(access).as_deref(),
            Some(user.username.as_str())
        );
        token
    }
}
