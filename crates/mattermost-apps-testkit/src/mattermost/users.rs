//! Users and sessions: the users a test creates, the installed app's bot, the app session
//! tokens the plugin puts in contexts, and personal access tokens (which the Apps REST API
//! refuses).

use super::state::{Session, SessionKind, User};
use super::Mattermost;
use crate::util::new_id;

impl Mattermost {
    /// Creates a user with `roles` (e.g. `system_user`, `system_admin system_user`).
    pub fn create_user(&self, username: &str, roles: &str) -> User {
        let user = User::new(username, roles);
        self.inner
            .lock()
            .users
            .insert(user.id.clone(), user.clone());
        user
    }

    /// The installed app's bot.
    pub fn bot(&self) -> User {
        let st = self.inner.lock();
        let app = st.app.as_ref().expect("an app is installed");
        st.users
            .get(&app.bot_user_id)
            .cloned()
            .expect("the bot exists")
    }

    /// The app session token of (installed app, `user`), as the plugin puts it in contexts.
    pub fn app_session_token(&self, user: &User) -> String {
        let mut st = self.inner.lock();
        let app_id = st.app.as_ref().expect("an app is installed").app_id.clone();
        st.app_session(&app_id, &user.id)
    }

    /// A personal access token of `user` (accepted by Mattermost, refused by the Apps API).
    pub fn personal_access_token(&self, user: &User) -> String {
        let token = new_id();
        self.inner.lock().sessions.insert(
            token.clone(),
            Session {
                user_id: user.id.clone(),
                kind: SessionKind::PersonalAccessToken,
            },
        );
        token
    }

    /// Every session token issued so far (app sessions, PATs, browser logins), for leak checks.
    pub fn all_session_tokens(&self) -> Vec<String> {
        self.inner.lock().sessions.keys().cloned().collect()
    }
}
