//! An in-memory [`Store`] for unit tests that keeps the WIT contract: unique
//! emails, store-chosen ids, revocation only of live sessions, rows scoped by user,
//! unique linked identities, atomic quota checks, conditional job transitions and
//! sign-in throttle windows.

use std::cell::{Cell, RefCell};

use crate::store::{
    ApiKey, JobStatus, LoginAttempt, LoginLimit, LoginThrottle, NewApiKey, NewOauthConnection,
    NewQuantumJob, NewSession, NewUser, OauthConnection, Preference, QuantumJob, Quota, Session,
    Store, StoreError, Timestamp, Transition, Usage, User,
};

/// Something another request does at a chosen moment: run just before the named
/// write, so a test can make a flow lose a race deterministically.
pub struct Interleaved {
    /// The operation it precedes ("create-user", "create-oauth-connection",
    /// "get-user-by-email", ...).
    pub before: &'static str,
    pub run: Box<dyn FnOnce(&MemoryStore)>,
}

impl std::fmt::Debug for Interleaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interleaved")
            .field("before", &self.before)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    pub users: RefCell<Vec<User>>,
    pub sessions: RefCell<Vec<Session>>,
    /// Names of the write operations called, in order.
    pub writes: RefCell<Vec<&'static str>>,
    /// When set, every operation fails with this error.
    pub failure: RefCell<Option<StoreError>>,
    /// Preferences with the id of the user they belong to.
    pub preferences: RefCell<Vec<(String, Preference)>>,
    /// Usage per user and period.
    pub usage: RefCell<Vec<(String, Usage)>>,
    pub jobs: RefCell<Vec<QuantumJob>>,
    pub oauth_connections: RefCell<Vec<OauthConnection>>,
    pub api_keys: RefCell<Vec<ApiKey>>,
    /// How many of the next `create_api_key` calls fail with `Conflict("api-key")`,
    /// as a real store would on a duplicate prefix or hash.
    pub api_key_conflicts: Cell<u32>,
    /// Sign-in failure counts, one per key.
    pub login_throttles: RefCell<Vec<LoginThrottle>>,
    /// Writes of other requests, each run once just before its write.
    pub interleaved: RefCell<Vec<Interleaved>>,
    /// How many users and connections were ever created, so ids are never reused
    /// after a deletion.
    pub users_created: Cell<u32>,
    pub connections_created: Cell<u32>,
}

impl MemoryStore {
    pub fn fail(&self) -> Result<(), StoreError> {
        self.failure.borrow().clone().map_or(Ok(()), Err)
    }

    pub fn wrote(&self, operation: &'static str) {
        self.writes.borrow_mut().push(operation);
    }

    /// Changes one user with `change` and stamps `updated_at`, recorded as the
    /// write `operation`; `NotFound` when there is no such user.
    fn update_user(
        &self,
        operation: &'static str,
        user_id: &str,
        now: Timestamp,
        change: impl FnOnce(&mut User),
    ) -> Result<(), StoreError> {
        self.fail()?;
        let mut users = self.users.borrow_mut();
        let user = users
            .iter_mut()
            .find(|u| u.id == user_id)
            .ok_or(StoreError::NotFound)?;
        change(user);
        user.updated_at = now;
        self.wrote(operation);
        Ok(())
    }

    /// Makes `run` happen just before the next `before` write, as if another
    /// request had got there first.
    pub fn interleave(&self, before: &'static str, run: impl FnOnce(&MemoryStore) + 'static) {
        self.interleaved.borrow_mut().push(Interleaved {
            before,
            run: Box::new(run),
        });
    }

    /// Runs the first step interleaved before `operation`, if any. It runs once,
    /// outside any borrow, so it may call the store itself.
    fn run_interleaved(&self, operation: &'static str) {
        let due = {
            let mut pending = self.interleaved.borrow_mut();
            let found = pending.iter().position(|step| step.before == operation);
            found.map(|index| pending.remove(index))
        };
        if let Some(step) = due {
            (step.run)(self);
        }
    }

    pub fn session(&self, id: &str) -> Session {
        self.sessions
            .borrow()
            .iter()
            .find(|session| session.id == id)
            .cloned()
            .expect("session exists")
    }

    pub fn api_key(&self, id: &str) -> ApiKey {
        self.api_keys
            .borrow()
            .iter()
            .find(|key| key.id == id)
            .cloned()
            .expect("api key exists")
    }

    pub fn edit_api_key(&self, id: &str, edit: impl FnOnce(&mut ApiKey)) {
        let mut keys = self.api_keys.borrow_mut();
        edit(
            keys.iter_mut()
                .find(|k| k.id == id)
                .expect("api key exists"),
        );
    }

    pub fn login_throttle(&self, key: &str) -> Option<LoginThrottle> {
        self.login_throttles
            .borrow()
            .iter()
            .find(|throttle| throttle.key == key)
            .cloned()
    }

    pub fn edit_session(&self, id: &str, edit: impl FnOnce(&mut Session)) {
        let mut sessions = self.sessions.borrow_mut();
        edit(
            sessions
                .iter_mut()
                .find(|s| s.id == id)
                .expect("session exists"),
        );
    }
}

impl Store for MemoryStore {
    fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        self.fail()?;
        self.run_interleaved("create-user");
        let mut users = self.users.borrow_mut();
        if users.iter().any(|existing| existing.email == user.email) {
            return Err(StoreError::Conflict("email".into()));
        }
        self.users_created.set(self.users_created.get() + 1);
        let created = User {
            id: format!("user-{}", self.users_created.get()),
            email: user.email,
            display_name: user.display_name,
            password_hash: user.password_hash,
            created_at: user.created_at,
            updated_at: user.created_at,
        };
        users.push(created.clone());
        self.wrote("create-user");
        Ok(created)
    }

    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.fail()?;
        Ok(self.users.borrow().iter().find(|u| u.id == id).cloned())
    }

    fn get_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.fail()?;
        self.run_interleaved("get-user-by-email");
        Ok(self
            .users
            .borrow()
            .iter()
            .find(|u| u.email == email)
            .cloned())
    }

    fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_user("set-password-hash", user_id, now, |user| {
            user.password_hash = Some(hash.to_owned());
        })
    }

    fn set_display_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_user("set-display-name", user_id, now, |user| {
            user.display_name = name.map(str::to_owned);
        })
    }

    fn create_user_with_session(
        &self,
        user: NewUser,
        user_agent: Option<String>,
        ip: Option<String>,
        expires_at: Timestamp,
    ) -> Result<(User, Session), StoreError> {
        self.fail()?;
        let created_at = user.created_at;
        let user = self.create_user(user)?;
        let session = self.create_session(
            NewSession {
                user_id: user.id.clone(),
                user_agent,
                ip,
                created_at,
                expires_at,
            },
            None,
        )?;
        // One batch, so one write, as the real backends make it.
        let mut writes = self.writes.borrow_mut();
        let len = writes.len();
        writes.truncate(len.saturating_sub(2));
        writes.push("create-user-with-session");
        Ok((user, session))
    }

    fn create_session(
        &self,
        session: NewSession,
        password_hash: Option<&str>,
    ) -> Result<Session, StoreError> {
        self.fail()?;
        self.run_interleaved("create-session");
        let holds = self.users.borrow().iter().any(|user| {
            user.id == session.user_id
                && password_hash.is_none_or(|hash| user.password_hash.as_deref() == Some(hash))
        });
        if !holds {
            return Err(StoreError::NotFound);
        }
        let mut sessions = self.sessions.borrow_mut();
        let created = Session {
            id: format!("session-{}", sessions.len() + 1),
            user_id: session.user_id,
            user_agent: session.user_agent,
            ip: session.ip,
            created_at: session.created_at,
            last_seen_at: session.created_at,
            expires_at: session.expires_at,
            revoked_at: None,
        };
        sessions.push(created.clone());
        self.wrote("create-session");
        Ok(created)
    }

    fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        self.fail()?;
        Ok(self.sessions.borrow().iter().find(|s| s.id == id).cloned())
    }

    fn touch_session(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        self.fail()?;
        self.edit_session(id, |session| session.last_seen_at = now);
        self.wrote("touch-session");
        Ok(())
    }

    fn list_sessions(&self, user_id: &str, now: Timestamp) -> Result<Vec<Session>, StoreError> {
        self.fail()?;
        // Newest first; among sessions created in the same millisecond, the one
        // created last comes first (the sort is stable).
        let mut live: Vec<Session> = self
            .sessions
            .borrow()
            .iter()
            .rev()
            .filter(|s| s.user_id == user_id && is_live(s, now))
            .cloned()
            .collect();
        live.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(live)
    }

    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.fail()?;
        let mut sessions = self.sessions.borrow_mut();
        let live = sessions
            .iter_mut()
            .find(|s| s.id == session_id && s.user_id == user_id && is_live(s, now));
        let Some(session) = live else {
            return Ok(false);
        };
        session.revoked_at = Some(now);
        self.wrote("revoke-session");
        Ok(true)
    }

    fn revoke_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        self.fail()?;
        let mut revoked = 0;
        for session in self.sessions.borrow_mut().iter_mut() {
            if session.user_id == user_id
                && Some(session.id.as_str()) != keep
                && is_live(session, now)
            {
                session.revoked_at = Some(now);
                revoked += 1;
            }
        }
        self.wrote("revoke-sessions");
        Ok(revoked)
    }

    fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        self.fail()?;
        let mut users = self.users.borrow_mut();
        let before = users.len();
        users.retain(|user| user.id != user_id);
        if users.len() == before {
            return Err(StoreError::NotFound);
        }
        self.sessions.borrow_mut().retain(|s| s.user_id != user_id);
        self.preferences.borrow_mut().retain(|(u, _)| u != user_id);
        self.usage.borrow_mut().retain(|(u, _)| u != user_id);
        self.jobs.borrow_mut().retain(|job| job.user_id != user_id);
        self.oauth_connections
            .borrow_mut()
            .retain(|c| c.user_id != user_id);
        self.api_keys.borrow_mut().retain(|k| k.user_id != user_id);
        self.wrote("delete-user");
        Ok(())
    }

    fn create_oauth_connection(
        &self,
        connection: NewOauthConnection,
    ) -> Result<OauthConnection, StoreError> {
        self.fail()?;
        self.run_interleaved("create-oauth-connection");
        if !self
            .users
            .borrow()
            .iter()
            .any(|u| u.id == connection.user_id)
        {
            // The foreign key: the user was deleted in the meantime.
            return Err(StoreError::NotFound);
        }
        let mut connections = self.oauth_connections.borrow_mut();
        if connections
            .iter()
            .any(|c| c.provider == connection.provider && c.subject == connection.subject)
        {
            return Err(StoreError::Conflict("oauth-connection".into()));
        }
        self.connections_created
            .set(self.connections_created.get() + 1);
        let created = OauthConnection {
            id: format!("connection-{}", self.connections_created.get()),
            user_id: connection.user_id,
            provider: connection.provider,
            subject: connection.subject,
            email: connection.email,
            created_at: connection.created_at,
        };
        connections.push(created.clone());
        self.wrote("create-oauth-connection");
        Ok(created)
    }

    fn get_oauth_connection(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OauthConnection>, StoreError> {
        self.fail()?;
        let connections = self.oauth_connections.borrow();
        Ok(connections
            .iter()
            .find(|c| c.provider == provider && c.subject == subject)
            .cloned())
    }

    fn list_oauth_connections(&self, user_id: &str) -> Result<Vec<OauthConnection>, StoreError> {
        self.fail()?;
        // Oldest first: the order rows were inserted in, as `created_at, id` orders
        // them in the real backends.
        let connections = self.oauth_connections.borrow();
        Ok(connections
            .iter()
            .filter(|c| c.user_id == user_id)
            .cloned()
            .collect())
    }

    fn delete_oauth_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> Result<bool, StoreError> {
        self.fail()?;
        self.run_interleaved("delete-oauth-connection");
        let mut connections = self.oauth_connections.borrow_mut();
        let before = connections.len();
        connections.retain(|c| !(c.id == connection_id && c.user_id == user_id));
        let deleted = connections.len() != before;
        if deleted {
            self.wrote("delete-oauth-connection");
        }
        Ok(deleted)
    }

    fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey, StoreError> {
        self.fail()?;
        let mut keys = self.api_keys.borrow_mut();
        let duplicate = keys
            .iter()
            .any(|k| k.prefix == key.prefix || k.secret_hash == key.secret_hash);
        if duplicate || self.api_key_conflicts.get() > 0 {
            self.api_key_conflicts
                .set(self.api_key_conflicts.get().saturating_sub(1));
            return Err(StoreError::Conflict("api-key".into()));
        }
        let created = ApiKey {
            id: format!("key-{}", keys.len() + 1),
            user_id: key.user_id,
            name: key.name,
            prefix: key.prefix,
            secret_hash: key.secret_hash,
            scopes: key.scopes,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        keys.push(created.clone());
        self.wrote("create-api-key");
        Ok(created)
    }

    fn get_api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.fail()?;
        let keys = self.api_keys.borrow();
        Ok(keys.iter().find(|k| k.secret_hash == secret_hash).cloned())
    }

    fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        self.fail()?;
        // Newest first, like `list_sessions`.
        let mut found: Vec<ApiKey> = self
            .api_keys
            .borrow()
            .iter()
            .rev()
            .filter(|k| k.user_id == user_id)
            .cloned()
            .collect();
        found.sort_by_key(|k| std::cmp::Reverse(k.created_at));
        Ok(found)
    }

    fn revoke_api_key(
        &self,
        user_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.fail()?;
        let mut keys = self.api_keys.borrow_mut();
        let Some(key) = keys
            .iter_mut()
            .find(|k| k.id == key_id && k.user_id == user_id && k.revoked_at.is_none())
        else {
            return Ok(false);
        };
        key.revoked_at = Some(now);
        self.wrote("revoke-api-key");
        Ok(true)
    }

    fn touch_api_key(&self, key_id: &str, now: Timestamp) -> Result<(), StoreError> {
        self.fail()?;
        self.edit_api_key(key_id, |key| key.last_used_at = Some(now));
        self.wrote("touch-api-key");
        Ok(())
    }

    fn list_preferences(&self, user_id: &str) -> Result<Vec<Preference>, StoreError> {
        self.fail()?;
        let mut found: Vec<Preference> = self
            .preferences
            .borrow()
            .iter()
            .filter(|(owner, _)| owner == user_id)
            .map(|(_, preference)| preference.clone())
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    fn set_preference(
        &self,
        user_id: &str,
        key: &str,
        value: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.fail()?;
        let mut preferences = self.preferences.borrow_mut();
        preferences.retain(|(owner, p)| !(owner == user_id && p.key == key));
        preferences.push((
            user_id.to_owned(),
            Preference {
                key: key.to_owned(),
                value: value.to_owned(),
                updated_at: now,
            },
        ));
        self.wrote("set-preference");
        Ok(())
    }

    fn delete_preference(&self, user_id: &str, key: &str) -> Result<bool, StoreError> {
        self.fail()?;
        let mut preferences = self.preferences.borrow_mut();
        let before = preferences.len();
        preferences.retain(|(owner, p)| !(owner == user_id && p.key == key));
        let deleted = preferences.len() != before;
        if deleted {
            self.wrote("delete-preference");
        }
        Ok(deleted)
    }

    fn get_usage(&self, user_id: &str, period: &str) -> Result<Usage, StoreError> {
        self.fail()?;
        let usage = self.usage.borrow();
        let found = usage
            .iter()
            .find(|(owner, u)| owner == user_id && u.period == period)
            .map(|(_, u)| u.clone());
        Ok(found.unwrap_or(Usage {
            period: period.to_owned(),
            jobs: 0,
            shots: 0,
        }))
    }

    fn submit_job(&self, job: NewQuantumJob, quota: Quota) -> Result<QuantumJob, StoreError> {
        self.fail()?;
        let current = self.get_usage(&job.user_id, &quota.period)?;
        let jobs = current.jobs + 1;
        let shots = current.shots + u64::from(job.shots);
        if jobs > quota.max_jobs || shots > quota.max_shots {
            return Err(StoreError::QuotaExceeded);
        }
        let mut usage = self.usage.borrow_mut();
        usage.retain(|(owner, u)| !(*owner == job.user_id && u.period == quota.period));
        usage.push((
            job.user_id.clone(),
            Usage {
                period: quota.period,
                jobs,
                shots,
            },
        ));
        let mut stored = self.jobs.borrow_mut();
        let created = QuantumJob {
            id: format!("job-{}", stored.len() + 1),
            user_id: job.user_id,
            status: JobStatus::Queued,
            backend: job.backend,
            shots: job.shots,
            source: job.source,
            result: None,
            error: None,
            created_at: job.created_at,
            updated_at: job.created_at,
        };
        stored.push(created.clone());
        self.wrote("submit-job");
        Ok(created)
    }

    fn get_job(&self, user_id: &str, job_id: &str) -> Result<Option<QuantumJob>, StoreError> {
        self.fail()?;
        let jobs = self.jobs.borrow();
        Ok(jobs
            .iter()
            .find(|j| j.id == job_id && j.user_id == user_id)
            .cloned())
    }

    fn list_jobs(
        &self,
        user_id: &str,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<QuantumJob>, StoreError> {
        self.fail()?;
        let mut found: Vec<QuantumJob> = self
            .jobs
            .borrow()
            .iter()
            .rev()
            .filter(|j| j.user_id == user_id && status.is_none_or(|s| s == j.status))
            .cloned()
            .collect();
        found.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    fn transition_job(
        &self,
        user_id: &str,
        job_id: &str,
        change: Transition<'_>,
    ) -> Result<Option<QuantumJob>, StoreError> {
        self.fail()?;
        let mut jobs = self.jobs.borrow_mut();
        let Some(job) = jobs
            .iter_mut()
            .find(|j| j.id == job_id && j.user_id == user_id && change.from.contains(&j.status))
        else {
            return Ok(None);
        };
        job.status = change.status;
        job.result = change.result.map(str::to_owned);
        job.error = change.error.map(str::to_owned);
        job.updated_at = change.now;
        self.wrote("transition-job");
        Ok(Some(job.clone()))
    }

    fn begin_login_attempt(
        &self,
        key: &str,
        now: Timestamp,
        limit: LoginLimit,
    ) -> Result<LoginAttempt, StoreError> {
        self.fail()?;
        self.run_interleaved("begin-login-attempt");
        let mut throttles = self.login_throttles.borrow_mut();
        let throttle = match throttles.iter_mut().find(|t| t.key == key) {
            Some(throttle) => throttle,
            None => {
                throttles.push(LoginThrottle {
                    key: key.to_owned(),
                    failures: 0,
                    window_started_at: now,
                    locked_until: None,
                });
                throttles.last_mut().expect("just pushed")
            }
        };
        if throttle.locked_until.is_some_and(|until| until > now) {
            return Ok(LoginAttempt {
                admitted: false,
                throttle: throttle.clone(),
            });
        }
        if throttle.window_started_at < limit.window_start {
            throttle.failures = 1;
            throttle.window_started_at = now;
        } else {
            throttle.failures = throttle.failures.saturating_add(1);
        }
        // The contract's formula: base-lock doubled per attempt past the limit, capped.
        throttle.locked_until =
            throttle
                .failures
                .checked_sub(limit.max_attempts)
                .map(|doublings| {
                    let lock = limit
                        .base_lock
                        .checked_mul(1_i64 << doublings.min(32))
                        .map_or(limit.max_lock, |lock| lock.min(limit.max_lock));
                    now.saturating_add(lock)
                });
        self.wrote("begin-login-attempt");
        Ok(LoginAttempt {
            admitted: true,
            throttle: throttle.clone(),
        })
    }

    fn refund_login_attempt(&self, key: &str, max_attempts: u32) -> Result<(), StoreError> {
        self.fail()?;
        let mut throttles = self.login_throttles.borrow_mut();
        if let Some(throttle) = throttles
            .iter_mut()
            .find(|t| t.key == key && t.failures > 0)
        {
            throttle.failures -= 1;
            if throttle.failures < max_attempts {
                throttle.locked_until = None;
            }
            self.wrote("refund-login-attempt");
        }
        Ok(())
    }

    fn clear_login_throttle(&self, key: &str) -> Result<(), StoreError> {
        self.fail()?;
        self.login_throttles.borrow_mut().retain(|t| t.key != key);
        self.wrote("clear-login-throttle");
        Ok(())
    }
}

fn is_live(session: &Session, now: Timestamp) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}
