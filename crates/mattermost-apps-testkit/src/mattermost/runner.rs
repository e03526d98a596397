//! The webapp's side of a slash command: fetch the user's bindings, parse the typed line
//! with [`command::parse`], and send the submit call it builds (or refuse, sending nothing).

use serde_json::{json, Value};

use super::calls::UserCall;
use super::command::{self, CommandError};
use super::state::User;
use super::Mattermost;

impl Mattermost {
    /// The bindings `user` gets from the webapp (`GET /api/v1/bindings`), cleaned.
    pub async fn bindings(&self, user: &User) -> Vec<Value> {
        self.inner.bindings(&user.id, Some("webapp")).await
    }

    /// The labels of the slash command's sub-commands in `user`'s bindings.
    pub async fn command_labels(&self, user: &User, command: &str) -> Vec<String> {
        let bindings = self.bindings(user).await;
        command::sub_command_labels(&bindings, command)
    }

    /// Runs a command line as the webapp's parser does ([`command::parse`]): on Enter,
    /// the client parses the line against `user`'s bindings and either refuses (`Err`, with
    /// the client's message, and nothing is sent) or calls the submit with the typed values
    /// and `raw_command`. A binding form without a submit makes it call the form's source
    /// first. The answer is the CallResponse; a `form` answer is what the client opens as a
    /// modal (submit it with [`Mattermost::submit_form`]).
    pub async fn command(&self, user: &User, line: &str) -> Result<Value, CommandError> {
        let bindings = self.bindings(user).await;
        let parsed = command::parse(&bindings, line)?;
        if let Some(source) = parsed.fetch_first {
            let fetched = self.call(user, source, json!({})).await;
            command::check_fetched_form(&fetched)?;
        }
        let submission = parsed.submission?;
        let mut call = UserCall::new(submission.call, submission.values);
        call.raw_command = Some(submission.raw_command);
        call.client_context = submission.context;
        Ok(self.call_with(user, call).await)
    }
}
