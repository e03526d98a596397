//! [`Command`]: a slash sub-command declared once, which yields both its binding and its
//! route, so the path in the binding and the path the app serves cannot drift apart (as
//! `goapp`'s `MakeBindableForm` does in mattermost-plugin-apps: apps/goapp/).
//!
//! ```
//! use mattermost_apps::{Command, Expand, ExpandLevel, Field};
//!
//! let remember = Command::new("remember")
//!     .description("Remember a text")
//!     .expand(Expand { acting_user_access_token: Some(ExpandLevel::All), ..Expand::NONE })
//!     .field(Field { name: "text".into(), label: "text".into(), position: 1, is_required: true, ..Field::default() });
//! assert_eq!(remember.path(), "/commands/remember");
//! let binding = remember.binding();
//! let form = binding.form.expect("a command with fields binds a form");
//! assert_eq!(form.submit.map(|call| call.path), Some("/commands/remember".into()));
//! ```

use crate::binding::{location, Binding};
use crate::call::Call;
use crate::call_response::CallResponse;
use crate::expand::Expand;
use crate::field::Field;
use crate::form::Form;

/// A sub-command of the app's slash command: its word, help, expand and fields. Its path
/// is `/commands/` and the word: under a prefix of its own, a command's path cannot be one
/// the plugin keeps for itself (it refuses user calls to `/ping` and to the manifest's
/// `on_install`-style paths: mattermost-plugin-apps server/proxy/invoke_call.go,
/// `checkForForbiddenPath`), so `ping` is a fine command word.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Command {
    label: String,
    description: String,
    hint: String,
    expand: Expand,
    fields: Vec<Field>,
}

impl Command {
    /// The sub-command `label` (one word), served at `/commands/{label}`, expanding nothing.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            ..Self::default()
        }
    }

    /// The autocomplete description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// The autocomplete hint (e.g. `[text]`).
    pub fn hint(mut self, text: impl Into<String>) -> Self {
        self.hint = text.into();
        self
    }

    /// What the plugin expands in the context of this command's calls.
    pub fn expand(mut self, expand: Expand) -> Self {
        self.expand = expand;
        self
    }

    /// Adds a flag or positional argument (a field of the command's form).
    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// The word typed after the app's command.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The path its calls are POSTed to: `/commands/` and the word.
    pub fn path(&self) -> String {
        format!("/commands/{}", self.label)
    }

    /// The call its binding and form submit.
    pub fn call(&self) -> Call {
        Call::new(self.path(), self.expand.clone())
    }

    /// Its binding under the app's command: a `submit` call, or with fields a form that
    /// submits it (the plugin wants exactly one of the two).
    pub fn binding(&self) -> Binding {
        let (submit, form) = if self.fields.is_empty() {
            (Some(self.call()), None)
        } else {
            (None, Some(self.form()))
        };
        Binding {
            label: self.label.clone(),
            description: self.description.clone(),
            hint: self.hint.clone(),
            submit,
            form,
            ..Binding::default()
        }
    }

    /// Its fields as a form that submits to it, titled with its description: what a
    /// `form` response opens as a modal.
    pub fn form(&self) -> Form {
        Form {
            title: self.description.clone(),
            submit: Some(self.call()),
            fields: self.fields.clone(),
            ..Form::default()
        }
    }

    /// The actix-web resource serving `handler` at [`path`](Self::path) for POSTs.
    ///
    /// ```
    /// use actix_web::App;
    /// use mattermost_apps::{CallResponse, Command, Verified};
    ///
    /// async fn ping(_call: Verified) -> CallResponse {
    ///     CallResponse::ok("pong")
    /// }
    ///
    /// let ping_command = Command::new("ping");
    /// let app = App::new().service(ping_command.route(ping));
    /// ```
    #[cfg(feature = "actix")]
    pub fn route<F, Args>(&self, handler: F) -> actix_web::Resource
    where
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        actix_web::web::resource(self.path()).route(actix_web::web::post().to(handler))
    }
}

/// The bindings response for an app with one slash command `word` and `commands` under
/// it: `ok` with `[{"location": "/command", "bindings": [{"label": word, ...}]}]`.
///
/// ```
/// use mattermost_apps::command::{bindings, Command};
///
/// let response = bindings("hello", "Say hello", &[Command::new("ping")]);
/// assert_eq!(
///     response.data.expect("bindings")[0]["bindings"][0]["bindings"][0]["submit"]["path"],
///     "/commands/ping"
/// );
/// ```
pub fn bindings(word: &str, description: &str, commands: &[Command]) -> CallResponse {
    let command = Binding {
        label: word.to_owned(),
        description: description.to_owned(),
        bindings: commands.iter().map(Command::binding).collect(),
        ..Binding::default()
    };
    let top = Binding {
        location: location::COMMAND.to_owned(),
        bindings: vec![command],
        ..Binding::default()
    };
    // Bindings have string keys only, so they always serialise.
    CallResponse::data(serde_json::json!([top]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::ExpandLevel;
    use serde_json::json;

    #[test]
    fn a_command_binds_and_submits_to_the_same_path() {
        let expand = Expand {
            acting_user: Some(ExpandLevel::Summary),
            ..Expand::NONE
        };
        let ping = Command::new("ping").description("Ping").expand(expand);
        let note = Command::new("note").field(Field {
            name: "text".into(),
            ..Field::default()
        });
        let response = bindings("hello", "Hello app", &[ping.clone(), note.clone()]);
        assert_eq!(
            response.data,
            Some(json!([{
                "location": "/command",
                "bindings": [{
                    "label": "hello",
                    "description": "Hello app",
                    "bindings": [
                        {"label": "ping", "description": "Ping",
                         "submit": {"path": "/commands/ping", "expand": {"acting_user": "summary"}}},
                        {"label": "note",
                         "form": {"submit": {"path": "/commands/note", "expand": {}},
                                  "fields": [{"name": "text", "type": "text"}]}}
                    ]
                }]
            }]))
        );
        assert_eq!(note.form().submit.map(|c| c.path), Some(note.path()));
    }
}
