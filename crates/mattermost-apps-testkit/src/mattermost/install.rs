//! `/apps install http <manifest_url>`: fetch and validate the manifest, keep the JWT
//! secret typed at consent, ping the app, fetch its icon without a JWT, create the bot, then
//! call `on_install` (or the bindings call). A failed ping or icon rolls the install back.

use std::time::Duration;

use serde_json::{json, Value};

use super::calls::{call_url, describe_reqwest};
use super::context::{ping_context, ClientContext};
use super::manifest::{self, manifest_call, string_list, validate_manifest, MAX_MANIFEST_SIZE};
use super::records::{EventTarget, StaticFetch};
use super::state::{InstalledApp, User};
use super::{http, Inner, Mattermost};

/// The ping timeout.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

impl Mattermost {
    /// `/apps install http <manifest_url>` with consent given and `jwt_secret` typed into the
    /// consent modal, by `admin`. Returns the message the admin sees.
    pub async fn install(
        &self,
        manifest_url: &str,
        jwt_secret: &str,
        admin: &User,
    ) -> Result<String, String> {
        let inner = &self.inner;
        // 1. fetch
        let response = http()
            .get(manifest_url)
            .timeout(inner.options.call_timeout)
            .send()
            .await
            .map_err(|e| format!("failed to get manifest: {}", describe_reqwest(&e)))?;
        if response.status().as_u16() >= 400 {
            return Err(format!(
                "failed to get manifest: received status {}",
                response.status().as_u16()
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("failed to get manifest: {e}"))?;
        if bytes.len() > MAX_MANIFEST_SIZE {
            return Err("failed to get manifest: size limit of 1024Kb exceeded".into());
        }
        let manifest: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("failed to decode manifest: {e}"))?;
        // 2. validate
        let problems = validate_manifest(&manifest);
        if !problems.is_empty() {
            return Err(format!("invalid manifest: {}", problems.join("; ")));
        }
        let app_id = manifest["app_id"].as_str().unwrap_or("").to_owned();
        let display_name = manifest["display_name"].as_str().unwrap_or("").to_owned();
        let http_deploy = manifest
            .get("http")
            .cloned()
            .ok_or("only http apps can be installed with this emulator")?;
        let root_url = http_deploy["root_url"].as_str().unwrap_or("").to_owned();
        let use_jwt = http_deploy["use_jwt"].as_bool().unwrap_or(false);
        // 4. consent and the secret (a blank one keeps the stored one on reinstall)
        let previous = inner.app();
        let secret = match (&previous, jwt_secret.is_empty()) {
            (Some(prev), true) if prev.app_id == app_id => prev.secret.clone(),
            _ => jwt_secret.to_owned(),
        };
        let (bot_user_id, bot_username) = {
            let st = inner.lock();
            match &previous {
                Some(prev) if prev.app_id == app_id => {
                    (prev.bot_user_id.clone(), prev.bot_username.clone())
                }
                _ => {
                    let mut username = app_id.to_lowercase();
                    if st.user_by_name(&username).is_some_and(|u| !u.is_bot) {
                        username = format!("{username}-app");
                    }
                    (String::new(), username)
                }
            }
        };
        let mut app = InstalledApp {
            app_id: app_id.clone(),
            manifest: manifest.clone(),
            root_url,
            use_jwt,
            secret,
            bot_user_id,
            bot_username,
            permissions: string_list(manifest.get("requested_permissions")),
            locations: string_list(manifest.get("requested_locations")),
            enabled: true,
            oauth2_app: None,
            oauth2_users: Default::default(),
            kv: Default::default(),
        };
        if let Some(prev) = previous.filter(|p| p.app_id == app_id) {
            app.oauth2_app = prev.oauth2_app;
            app.oauth2_users = prev.oauth2_users;
            app.kv = prev.kv;
        }
        // The ping and the icon are fetched with the new record in place, and rolled back
        // when they fail.
        let rollback = inner.lock().app.replace(app.clone());
        let restore = |inner: &Inner| inner.lock().app = rollback.clone();
        // ping
        let ping = json!({ "path": "/ping", "context": ping_context() });
        if let Err(err) = inner.invoke(ping, PING_TIMEOUT, true).await {
            restore(inner);
            return Err(format!(
                "failed to install, /ping path is not accessible: {err}"
            ));
        }
        // icon
        if let Some(icon) = manifest["icon"].as_str().filter(|i| !i.is_empty()) {
            let name = manifest::clean_static_path(icon).unwrap_or_default();
            let url = call_url(&app.root_url, &format!("/static/{name}"))?;
            let result = http()
                .get(&url)
                .timeout(inner.options.call_timeout)
                .send()
                .await;
            let status = result.as_ref().ok().map(|r| r.status().as_u16());
            inner.lock().records.statics.push(StaticFetch {
                url: url.clone(),
                status,
                sent_auth: false,
            });
            if status != Some(200) {
                restore(inner);
                return Err(format!(
                    "failed to download icon: {url}: status {}",
                    status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "none".into())
                ));
            }
        }
        // bot
        {
            let mut st = inner.lock();
            let bot_id = match st.users.values().find(|u| u.username == app.bot_username) {
                Some(bot) => bot.id.clone(),
                None => {
                    let mut bot = User::new(&app.bot_username, "system_user");
                    bot.is_bot = true;
                    bot.first_name = display_name.clone();
                    bot.last_name = String::new();
                    bot.email = String::new();
                    bot.bot_description = format!("Bot account for `{display_name}` App.");
                    let id = bot.id.clone();
                    st.users.insert(id.clone(), bot);
                    id
                }
            };
            if let Some(installed) = st.app.as_mut() {
                installed.bot_user_id = bot_id;
            }
        }
        // on_install, or the bindings call when there is none but locations were granted
        let on_install = manifest_call(&manifest, "on_install", None, None);
        let mut message = format!("Installed app `{app_id}`: {display_name}");
        let outcome = match on_install {
            Some(call) => Some(
                inner
                    .call_app(Some(&admin.id), &call, None, &[], &ClientContext::default())
                    .await,
            ),
            None if !app.locations.is_empty() => {
                let call = manifest_call(&manifest, "bindings", Some("/bindings"), None)
                    .expect("bindings has a default");
                Some(
                    inner
                        .call_app(Some(&admin.id), &call, None, &[], &ClientContext::default())
                        .await,
                )
            }
            None => None,
        };
        match outcome {
            Some(Ok(response)) if response["type"] != "error" => {
                message.push('.');
                if let Some(text) = response["text"].as_str().filter(|t| !t.is_empty()) {
                    message.push_str("\n\n");
                    message.push_str(text);
                }
            }
            Some(Ok(response)) => message.push_str(&format!(
                ", despite on_install failure: {}",
                response["text"].as_str().unwrap_or("")
            )),
            Some(Err(err)) => message.push_str(&format!(", despite on_install failure: {err}")),
            None => message.push('.'),
        }
        inner.event(EventTarget::User(admin.id.clone()), "install");
        Ok(message)
    }

    /// The installed app's record (manifest, secret, stored data).
    pub fn installed_app(&self) -> Option<InstalledApp> {
        self.inner.app()
    }

    /// Sends the app's calls to `root_url` from now on, like a load balancer switching
    /// replicas (the manifest is unchanged).
    pub fn route_app_to(&self, root_url: &str) {
        if let Some(app) = self.inner.lock().app.as_mut() {
            app.root_url = root_url.trim_end_matches('/').to_owned();
        }
    }

    /// `/apps enable` / `/apps disable`, without the lifecycle calls.
    pub fn set_app_enabled(&self, enabled: bool) {
        if let Some(app) = self.inner.lock().app.as_mut() {
            app.enabled = enabled;
        }
    }
}
