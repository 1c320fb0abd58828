//! The `/fireline` command and the Acknowledge/Resolve/Escalate buttons as every chat
//! has them (docs/chat.md): reading a sub-command, doing it as the roster person who
//! asked, and the words of the answer. What differs between chats is a [`Chat`]: how
//! its markup is escaped and which roster field links a person to their account there.
//! The transports (routes/slack.rs, routes/mattermost.rs) check that a request came
//! from the chat, read its fields and answer in its shape; they hold no wording of
//! their own beyond that.
//!
//! Every change goes through the incidents routes' own functions, so through the one
//! command path ([`fireline_engine::Commands`]), as that person: it lands on the timeline
//! with their id as the actor, and is refused for the same reasons as through the API.

use super::incidents::{escalate_now, update_text};
use crate::auth::Caller;
use crate::{ApiError, AppState};
use fireline_core::oncall::{ContactKind, Person, Roster};
use fireline_core::{AccessRole, Channel, Command, Declaration, IncidentId};
use fireline_store::IncidentFilter;

/// What sets one chat apart from another for the `/fireline` command.
pub(super) struct Chat {
    /// The chat's name as people say it: "Slack", "Mattermost".
    pub name: &'static str,
    /// The caller's token id prefix and the log's name for it: `slack`, `mattermost`.
    pub key: &'static str,
    /// The roster field that links a person to their account here.
    pub field: &'static str,
    /// The account id a person has here, if they linked one.
    pub account: fn(&Person) -> Option<&str>,
    /// Escapes user text for the chat's markup, so it cannot mention a whole channel or
    /// make a link.
    pub escape: fn(&str) -> String,
    /// Bold, in the chat's markup (`*x*` in Slack's mrkdwn, `**x**` in Markdown).
    pub strong: &'static str,
    /// Where to ask the chat for a member's e-mail address, for people the roster links
    /// by an `email` contact rather than the account field (Slack, with a bot token).
    pub directory: fn(&AppState) -> Option<std::sync::Arc<fireline_notify::SlackWebApi>>,
}

impl Chat {
    fn bold(&self, text: &str) -> String {
        format!("{0}{text}{0}", self.strong)
    }

    fn usage(&self) -> String {
        format!(
            "{} commands:\n\
             • `ack [INC-7]`: acknowledge (alone: your latest page)\n\
             • `resolve INC-7 [summary]`\n\
             • `escalate INC-7 [why]`: page the next escalation level now\n\
             • `note INC-7 text`: add a note to the timeline\n\
             • `update INC-7 [internal|customer|status_page] text`: post an update (internal if not said)\n\
             • `status [INC-7]`: one incident, or every open one\n\
             • `declare SEV1 service title`: declare an incident\n\
             • `oncall`: who is on call now",
            self.bold("/fireline")
        )
    }

    /// The roster person an account of this chat is: by the account field, else by the
    /// e-mail address the chat's directory shows for them, matched to one person's
    /// `email` contact. A directory that cannot answer links nobody.
    async fn person<'a>(
        &self,
        state: &AppState,
        roster: &'a Roster,
        user: &str,
    ) -> Option<&'a Person> {
        if let Some(person) = roster
            .people
            .values()
            .find(|p| (self.account)(p) == Some(user))
        {
            return Some(person);
        }
        let directory = (self.directory)(state)?;
        let member = user.to_owned();
        let email = match tokio::task::spawn_blocking(move || directory.email_of(&member))
            .await
            .ok()?
        {
            Ok(email) => email?,
            Err(e) => {
                tracing::warn!(chat = self.key, error = %e, "could not look a member up");
                return None;
            }
        };
        let mut matching = roster.people.values().filter(|p| {
            p.contacts.iter().any(|c| {
                c.kind == ContactKind::Email && c.address.trim().eq_ignore_ascii_case(&email)
            })
        });
        // Two people with one address cannot tell who is asking.
        match (matching.next(), matching.next()) {
            (Some(person), None) => Some(person),
            _ => None,
        }
    }

    fn unmapped(&self, user: &str) -> String {
        // The id is echoed so the admin can paste it; only its plain characters, so a
        // forged one cannot end the code span and say something else.
        let id: String = user
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(64)
            .collect();
        format!(
            "Your {} account ({id}) is not linked to anyone in fireline's roster, so nothing \
             was done. Ask an admin to add `{} = \"{id}\"` to your person in the roster.",
            self.name, self.field,
        )
    }

    /// The caller a chat account acts as: the person, with a responder's rights (the
    /// roster lists the people who respond).
    fn caller(&self, person: &Person) -> Caller {
        Caller {
            name: person.id.clone(),
            role: AccessRole::Responder,
            token_id: format!("{}:{}", self.key, person.id),
        }
    }

    /// Why something was not done, in words for a person: the incident's own refusals
    /// as they are, anything else (the database unreachable) without detail.
    fn trouble(&self, error: &ApiError) -> String {
        match error {
            ApiError::Conflict(message)
            | ApiError::Invalid { message, .. }
            | ApiError::NotFound(message)
            | ApiError::BadRequest { message, .. } => format!("Not done: {message}"),
            other => {
                tracing::warn!(chat = self.key, error = %other, "a chat command failed");
                "Not done: fireline could not do it just now; try again, or use fireline's web UI"
                    .to_owned()
            }
        }
    }
}

/// Slack: mrkdwn, linked by `slack_user`.
pub(super) const SLACK: Chat = Chat {
    name: "Slack",
    key: "slack",
    field: "slack_user",
    account: |p| p.slack_user.as_deref(),
    escape: fireline_notify::escape_mrkdwn,
    strong: "*",
    directory: |state| state.slack.as_ref().and_then(|app| app.web_api()),
};

/// Mattermost: Markdown, linked by `mattermost_user`.
pub(super) const MATTERMOST: Chat = Chat {
    name: "Mattermost",
    key: "mattermost",
    field: "mattermost_user",
    account: |p| p.mattermost_user.as_deref(),
    escape: fireline_notify::escape_markdown,
    strong: "**",
    // Linked by `mattermost_user` only: fireline holds no Mattermost token to ask with.
    directory: |_| None,
};

/// What to say back, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Answer {
    /// The text, in the chat's markup.
    pub text: String,
    /// Whether the whole channel sees it (a change), or only who asked (questions,
    /// refusals, help).
    pub public: bool,
}

impl Answer {
    fn private(text: impl Into<String>) -> Answer {
        Answer {
            text: text.into(),
            public: false,
        }
    }

    fn public(text: impl Into<String>) -> Answer {
        Answer {
            text: text.into(),
            public: true,
        }
    }
}

/// A button on a fireline message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Button {
    /// Acknowledge the incident.
    Acknowledge,
    /// Resolve it.
    Resolve,
    /// Page the next escalation level now.
    Escalate,
}

/// `/fireline {text}` typed by `user` (their account id in `chat`).
pub(super) async fn command(state: &AppState, chat: &Chat, user: &str, text: &str) -> Answer {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("help") {
        return Answer::private(chat.usage());
    }
    let roster = match state.store.roster().await {
        Ok(roster) => roster,
        Err(e) => return Answer::private(chat.trouble(&e.into())),
    };
    let Some(person) = chat.person(state, &roster, user).await else {
        return Answer::private(chat.unmapped(user));
    };
    match run(state, chat, &roster, person, text).await {
        Ok(answer) => answer,
        Err(e) => Answer::private(chat.trouble(&e)),
    }
}

/// What a click on `button` for the incident `value` by `user` did, as the words only
/// they see.
pub(super) async fn click(
    state: &AppState,
    chat: &Chat,
    user: &str,
    button: Button,
    value: &str,
) -> String {
    let roster = match state.store.roster().await {
        Ok(roster) => roster,
        Err(e) => return chat.trouble(&e.into()),
    };
    let Some(person) = chat.person(state, &roster, user).await else {
        return chat.unmapped(user);
    };
    let Ok(id) = value.parse::<IncidentId>() else {
        return "Not done: the button names no incident".to_owned();
    };
    let who = chat.caller(person);
    let done = match button {
        Button::Acknowledge => act(state, &who, id, Command::Acknowledge)
            .await
            .map(|()| format!("You acknowledged {id}.")),
        Button::Resolve => act(state, &who, id, Command::Resolve { summary: None })
            .await
            .map(|()| format!("You resolved {id}.")),
        Button::Escalate => escalate(state, &who, id, None)
            .await
            .map(|level| format!("You escalated {id} to level {level}.")),
    };
    done.unwrap_or_else(|e| chat.trouble(&e))
}

/// A note on incident `id` written by `user` (a form's answer): added as their person,
/// or why not, in words for them.
pub(super) async fn note(
    state: &AppState,
    chat: &Chat,
    user: &str,
    id: IncidentId,
    text: String,
) -> Result<(), String> {
    let roster = state
        .store
        .roster()
        .await
        .map_err(|e| chat.trouble(&e.into()))?;
    let person = chat
        .person(state, &roster, user)
        .await
        .ok_or_else(|| chat.unmapped(user))?;
    act(state, &chat.caller(person), id, Command::AddNote { text })
        .await
        .map_err(|e| chat.trouble(&e))
}

/// One sub-command as `person`.
async fn run(
    state: &AppState,
    chat: &Chat,
    roster: &Roster,
    person: &Person,
    text: &str,
) -> Result<Answer, ApiError> {
    let (verb, rest) = split_word(text);
    let who = chat.caller(person);
    let name = (chat.escape)(&person.name);
    match verb.to_ascii_lowercase().as_str() {
        "ack" | "acknowledge" => {
            let id = match incident_arg(chat, rest)?.0 {
                Some(id) => id,
                None => super::twilio::latest_page(state, &person.id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::NotFound(
                            "no open page of yours to acknowledge; say which: `/fireline ack INC-7`"
                                .to_owned(),
                        )
                    })?,
            };
            act(state, &who, id, Command::Acknowledge).await?;
            Ok(Answer::public(format!("{name} acknowledged {id}.")))
        }
        "resolve" => {
            let (id, summary) = required_incident(chat, rest)?;
            let summary = non_empty(summary);
            act(state, &who, id, Command::Resolve { summary }).await?;
            Ok(Answer::public(format!("{name} resolved {id}.")))
        }
        "note" => {
            let (id, note) = required_incident(chat, rest)?;
            let text = non_empty(note).ok_or_else(|| {
                ApiError::invalid("text", "say what to note: `/fireline note INC-7 text`")
            })?;
            act(state, &who, id, Command::AddNote { text }).await?;
            Ok(Answer::private(format!("Noted on {id}.")))
        }
        "update" => post_update(state, chat, &who, rest).await,
        "escalate" => {
            let (id, why) = required_incident(chat, rest)?;
            let level = escalate(state, &who, id, non_empty(why).as_deref()).await?;
            Ok(Answer::public(format!(
                "{name} escalated {id} to level {level}."
            )))
        }
        "status" => status(state, chat, rest).await.map(Answer::private),
        "oncall" | "on-call" => Ok(Answer::private(on_call(state, chat, roster))),
        "declare" => declare(state, chat, &who, rest).await.map(Answer::public),
        _ => Ok(Answer::private(format!(
            "I do not know `{}`.\n{}",
            (chat.escape)(verb),
            chat.usage()
        ))),
    }
}

/// `update INC-7 [channel] text`.
async fn post_update(
    state: &AppState,
    chat: &Chat,
    who: &Caller,
    rest: &str,
) -> Result<Answer, ApiError> {
    let (id, rest) = required_incident(chat, rest)?;
    let (first, after) = split_word(rest);
    let (channel, text) = match first.parse::<Channel>() {
        Ok(channel) => (channel, after),
        Err(_) => (Channel::Internal, rest),
    };
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "text",
            "say what to post: `/fireline update INC-7 [internal|customer|status_page] text`",
        ));
    }
    let (current, _) = super::incidents::load(state, id).await?;
    let policy = state.policy.current();
    let (text, warnings) = update_text(
        &policy,
        &current,
        channel,
        None,
        text.trim(),
        &Default::default(),
        state.clock.now(),
    )?;
    act(
        state,
        who,
        id,
        Command::PostUpdate {
            channel,
            text: text.clone(),
        },
    )
    .await?;
    let mut answer = format!("Posted on {channel} for {id}:\n>{}", (chat.escape)(&text));
    for warning in warnings {
        answer.push_str(&format!("\n:warning: {}", (chat.escape)(&warning)));
    }
    Ok(Answer::public(answer))
}

/// Escalates `id` to the next level; the level it went to.
async fn escalate(
    state: &AppState,
    who: &Caller,
    id: IncidentId,
    why: Option<&str>,
) -> Result<u32, ApiError> {
    let (_, events) = super::incidents::load(state, id).await?;
    let policy = state.policy.current();
    let level = fireline_core::plan::next_escalation_level(&policy, &events)
        .ok_or_else(|| ApiError::invalid("level", "the policy has no escalation levels to page"))?;
    // The incident after it is the API's answer; here the level is the news.
    let _ = escalate_now(state, who, id, None, level, why).await?;
    Ok(level)
}

/// `declare SEV1 service title…`.
async fn declare(
    state: &AppState,
    chat: &Chat,
    who: &Caller,
    rest: &str,
) -> Result<String, ApiError> {
    let (severity, rest) = split_word(rest);
    let (service, title) = split_word(rest);
    if title.trim().is_empty() {
        return Err(ApiError::invalid(
            "title",
            "say the severity, the service and a title: `/fireline declare SEV1 checkout Card payments fail`",
        ));
    }
    let applied = state
        .commands
        .declare(
            &Declaration {
                title: title.trim().to_owned(),
                severity: severity.to_owned(),
                service: service.to_owned(),
                summary: None,
                category: None,
                flags: Vec::new(),
            },
            &who.name,
        )
        .await?;
    let incident = &applied.incident;
    let escape = chat.escape;
    Ok(format!(
        "{} declared {} [{}] {} ({}): {}",
        escape(&who.name),
        incident.id,
        escape(&incident.severity),
        escape(&incident.title),
        escape(&incident.service),
        state.pager.links().incident_url(incident.id)
    ))
}

/// One incident in a line or two, or every open one.
async fn status(state: &AppState, chat: &Chat, rest: &str) -> Result<String, ApiError> {
    let now = state.clock.now();
    let escape = chat.escape;
    if let (Some(id), _) = incident_arg(chat, rest)? {
        let (incident, _) = super::incidents::load(state, id).await?;
        let acked = match &incident.acknowledged {
            Some((at, by)) => format!(
                "acknowledged by {} {} ago",
                escape(by),
                fireline_core::describe::duration(now.duration_since(*at))
            ),
            None => "not acknowledged".to_owned(),
        };
        return Ok(format!(
            "{} [{}] {} ({})\n{}, {acked}, open for {}\n{}",
            chat.bold(&id.to_string()),
            escape(&incident.severity),
            escape(&incident.title),
            escape(&incident.service),
            incident.status.as_str(),
            fireline_core::describe::duration(now.duration_since(incident.declared_at)),
            state.pager.links().incident_url(id)
        ));
    }
    let open = state
        .store
        .list_incidents(&IncidentFilter::default())
        .await?;
    if open.is_empty() {
        return Ok("No open incidents.".to_owned());
    }
    let mut lines: Vec<String> = open
        .iter()
        .take(20)
        .map(|i| {
            format!(
                "• {} [{}] {} — {}{}",
                chat.bold(&i.id.to_string()),
                escape(&i.severity),
                escape(&i.title),
                i.status.as_str(),
                if i.acknowledged_at.is_some() {
                    ""
                } else {
                    ", not acknowledged"
                }
            )
        })
        .collect();
    if open.len() > 20 {
        lines.push(format!("…and {} more", open.len() - 20));
    }
    Ok(lines.join("\n"))
}

/// Who is on call now on each schedule.
fn on_call(state: &AppState, chat: &Chat, roster: &Roster) -> String {
    let now = state.clock.now();
    if roster.schedules.is_empty() {
        return "The roster has no schedules.".to_owned();
    }
    roster
        .schedules
        .values()
        .map(|s| {
            let who = s.on_call_at(now).map_or_else(
                || "nobody".to_owned(),
                |shift| {
                    roster
                        .people
                        .get(&shift.person)
                        .map_or(shift.person.clone(), |p| p.name.clone())
                },
            );
            format!("• {}: {}", (chat.escape)(&s.name), (chat.escape)(&who))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn act(
    state: &AppState,
    who: &Caller,
    id: IncidentId,
    command: Command,
) -> Result<(), ApiError> {
    let _ = super::incidents::execute(state, who, id, None, command).await?;
    Ok(())
}

/// The first word and the rest (trimmed).
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// An incident id first (`INC-7`, `inc-7`, `7`, `#7`), if the text starts with one.
fn incident_arg<'a>(chat: &Chat, text: &'a str) -> Result<(Option<IncidentId>, &'a str), ApiError> {
    let (word, rest) = split_word(text);
    if word.is_empty() {
        return Ok((None, rest));
    }
    word.trim_start_matches('#')
        .parse::<IncidentId>()
        .map(|id| (Some(id), rest))
        .map_err(|_| {
            ApiError::invalid(
                "incident",
                format!(
                    "`{}` is not an incident: write it as INC-7",
                    (chat.escape)(word)
                ),
            )
        })
}

fn required_incident<'a>(chat: &Chat, text: &'a str) -> Result<(IncidentId, &'a str), ApiError> {
    match incident_arg(chat, text)? {
        (Some(id), rest) => Ok((id, rest)),
        (None, _) => Err(ApiError::invalid(
            "incident",
            "say which incident, e.g. INC-7",
        )),
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
