//! How the blocking build code talks to the store: log lines and progress go through a
//! channel to an async task that writes them, so WIM work never waits on the database.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use wait_store::LogLevel;

#[derive(Debug)]
pub(crate) enum Event {
    Log {
        level: LogLevel,
        stage: Cow<'static, str>,
        message: String,
    },
    Progress {
        percent: u8,
        stage: Cow<'static, str>,
    },
    /// Answered once every earlier event is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Handed to the blocking stages. Cloneable so a wimlib progress closure can own one.
#[derive(Debug, Clone)]
pub(crate) struct Reporter {
    tx: mpsc::UnboundedSender<Event>,
    cancel: Arc<AtomicBool>,
    verbose: bool,
}

impl Reporter {
    pub(crate) fn new(
        tx: mpsc::UnboundedSender<Event>,
        cancel: Arc<AtomicBool>,
        verbose: bool,
    ) -> Self {
        Self {
            tx,
            cancel,
            verbose,
        }
    }

    pub(crate) fn info(&self, stage: impl Into<Cow<'static, str>>, message: impl Into<String>) {
        self.send(Event::Log {
            level: LogLevel::Normal,
            stage: stage.into(),
            message: message.into(),
        });
    }

    /// Verbose lines are always stored; readers choose whether to show them. Building
    /// the text is skipped when the job did not ask for verbose logs.
    pub(crate) fn verbose(
        &self,
        stage: impl Into<Cow<'static, str>>,
        message: impl FnOnce() -> String,
    ) {
        if self.verbose {
            self.send(Event::Log {
                level: LogLevel::Verbose,
                stage: stage.into(),
                message: message(),
            });
        }
    }

    pub(crate) fn progress(&self, stage: impl Into<Cow<'static, str>>, percent: u8) {
        self.send(Event::Progress {
            percent: percent.min(100),
            stage: stage.into(),
        });
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub(crate) fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Ends the stage early when the job was cancelled.
    pub(crate) fn check_cancel(&self) -> Result<(), crate::PipelineError> {
        if self.cancelled() {
            Err(crate::PipelineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Wait until everything sent so far is in the store.
    pub(crate) async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Event::Flush(tx));
        let _ = rx.await;
    }

    fn send(&self, event: Event) {
        // The receiver lives until the job finishes; a send error means the job task
        // is gone and there is nobody left to tell.
        let _ = self.tx.send(event);
    }
}
