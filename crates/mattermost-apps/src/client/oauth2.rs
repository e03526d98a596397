//! The remote OAuth2 part of the Apps REST API: the app's OAuth2 client and the acting
//! user's token, as the app stores them.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::core::{decode_optional, AppsClient, ClientError, MAX_BODY};
use crate::oauth2::OAuth2App;

impl AppsClient {
    /// Stores the remote OAuth2 client (needs a system admin's token). A whole replacement.
    ///
    /// ```no_run
    /// # async fn f(client: mattermost_apps::AppsClient) -> Result<(), mattermost_apps::client::ClientError> {
    /// use mattermost_apps::OAuth2App;
    ///
    /// let app = OAuth2App {
    ///     client_id: "id".into(),
    ///     client_secret: "secret".into(),
    ///     ..OAuth2App::default()
    /// };
    /// client.store_oauth2_app(&app).await?;
    /// # Ok(()) }
    /// ```
    pub async fn store_oauth2_app(&self, app: &OAuth2App) -> Result<(), ClientError> {
        self.send(
            reqwest::Method::POST,
            &self.apps("/oauth2/app"),
            app,
            MAX_BODY,
        )
        .await
        .map(drop)
    }

    /// Stores the acting user's remote token (any JSON; `null` clears it).
    ///
    /// ```no_run
    /// # async fn f(client: mattermost_apps::AppsClient) -> Result<(), mattermost_apps::client::ClientError> {
    /// client.store_oauth2_user(&serde_json::json!({"refresh_token": "r"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn store_oauth2_user<T: Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<(), ClientError> {
        self.send(
            reqwest::Method::POST,
            &self.apps("/oauth2/user"),
            value,
            MAX_BODY,
        )
        .await
        .map(drop)
    }

    /// Reads the acting user's remote token; `None` when nothing (or `{}`/`null`) is stored.
    ///
    /// ```no_run
    /// # async fn f(client: mattermost_apps::AppsClient) -> Result<(), mattermost_apps::client::ClientError> {
    /// let token: Option<serde_json::Value> = client.get_oauth2_user().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_oauth2_user<T: DeserializeOwned>(&self) -> Result<Option<T>, ClientError> {
        let bytes = self.get(&self.apps("/oauth2/user")).await?;
        decode_optional(&bytes)
    }
}
