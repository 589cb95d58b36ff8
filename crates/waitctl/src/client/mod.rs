//! `waitctl job …` and `waitctl login`: the command-line client of a running WAIT
//! server, over the HTTP API only (it never opens the database or the repository).

mod download;
mod follow;
mod http;
mod jobs;
mod login;
mod output;
mod request;
mod session;
mod sse;

pub use jobs::{JobCommand, run as run_job};
pub use login::{LoginArgs, run as run_login};
pub use session::ClientArgs;
