//! Waking idle workers. Every store wakes its own waiters when it queues work; on
//! PostgreSQL a listener on `wait_jobs` also wakes them when another process does.
//! Notifications are hints: a waiter that misses one still wakes at its timeout.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use crate::backend::{self, Pool};
use crate::{Inner, Store};

/// SQLite has no cross-process notification: poll at least this often.
const POLL_FALLBACK: Duration = Duration::from_millis(250);
/// After the listener could not be started, try again no sooner than this.
const LISTENER_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub(crate) struct Wake {
    notify: Arc<Notify>,
    listener: Mutex<ListenerState>,
}

#[derive(Debug, Default)]
enum ListenerState {
    #[default]
    NotStarted,
    Running,
    FailedAt(Instant),
    Stopped,
}

impl Wake {
    /// Wake every current waiter, and leave one permit so that a worker about to wait
    /// returns at once instead of missing this wake-up.
    pub(crate) fn wake(&self) {
        wake_all(&self.notify);
    }

    pub(crate) fn stop(&self) {
        if let Ok(mut state) = self.listener.lock() {
            *state = ListenerState::Stopped;
        }
    }

    /// Whether the PostgreSQL listener runs (starting it if due).
    fn listening(&self, pool: &sqlx::PgPool, owner: Weak<Inner>) -> bool {
        let Ok(mut state) = self.listener.lock() else {
            return false;
        };
        match *state {
            ListenerState::Running => return true,
            ListenerState::Stopped => return false,
            ListenerState::FailedAt(at) if at.elapsed() < LISTENER_RETRY => return false,
            ListenerState::NotStarted | ListenerState::FailedAt(_) => {}
        }
        // Mark it running now; the task reports a failure back through `owner`.
        *state = ListenerState::Running;
        tokio::spawn(listen(pool.clone(), Arc::clone(&self.notify), owner));
        true
    }

    fn listener_failed(&self) {
        if let Ok(mut state) = self.listener.lock() {
            if matches!(*state, ListenerState::Running) {
                *state = ListenerState::FailedAt(Instant::now());
            }
        }
    }
}

fn wake_all(notify: &Notify) {
    notify.notify_waiters();
    notify.notify_one();
}

/// Forward `NOTIFY wait_jobs` to the store's waiters until the pool closes or the store
/// is dropped.
async fn listen(pool: sqlx::PgPool, notify: Arc<Notify>, owner: Weak<Inner>) {
    let mut listener = match PgListener::connect_with(&pool).await {
        Ok(l) => l,
        Err(e) => return give_up(&owner, &notify, e),
    };
    if let Err(e) = listener.listen(backend::postgres::WAKE_CHANNEL).await {
        return give_up(&owner, &notify, e);
    }
    loop {
        match listener.recv().await {
            Ok(_) => wake_all(&notify),
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                // The listener reconnects on the next call; notifications sent in between
                // are lost, so wake everyone to look at the queue once.
                tracing::warn!(error = %e, "job notification listener lost its connection");
                wake_all(&notify);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if owner.strong_count() == 0 {
            return;
        }
    }
}

fn give_up(owner: &Weak<Inner>, notify: &Notify, e: sqlx::Error) {
    tracing::warn!(error = %e, "cannot listen for job notifications; polling instead");
    if let Some(inner) = owner.upgrade() {
        inner.wake.listener_failed();
    }
    wake_all(notify);
}

impl Store {
    /// Wait until work may be available: returns `true` when woken by a notification
    /// (a job was queued or re-queued, here or — on PostgreSQL — in any process), `false`
    /// when the wait timed out. On SQLite, and on PostgreSQL while the listener is down,
    /// the wait is at most 250 ms, so jobs queued by other processes are seen by polling.
    pub async fn wait_for_work(&self, timeout: Duration) -> bool {
        let listening = match self.pool() {
            Pool::Sqlite(_) => false,
            Pool::Postgres(pool) => self.inner.wake.listening(pool, Arc::downgrade(&self.inner)),
        };
        let wait = if listening {
            timeout
        } else {
            timeout.min(POLL_FALLBACK)
        };
        tokio::select! {
            () = self.inner.wake.notify.notified() => true,
            () = tokio::time::sleep(wait) => false,
        }
    }
}
