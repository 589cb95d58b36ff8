//! The Slack slash command (`/wait build …`, `/wait status [job]`, `/wait queue`).
//!
//! A request goes through these in order: `verify` (signature over the raw body),
//! `form` (the form fields Slack sends), `command` (the text after `/wait`), `actions`
//! (what the verb does), `reply` (the answer in Slack's message format).

pub mod actions;
pub mod command;
pub mod form;
pub mod reply;
pub mod verify;
