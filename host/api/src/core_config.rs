//! The account core's configuration (its `config` import), as every host fills
//! it: the keys, the rules a host applies before starting, and the operator's
//! environment variables that set them. The core reads and validates the values
//! (`plugins/auth`); `qhub serve`, the embedded CLI and the Worker (whose build
//! writes these constants into its bundle) fill them from this one list.

/// The HS256 signing secret, at least [`MIN_JWT_SECRET_BYTES`] long.
pub const JWT_SECRET: &str = "jwt-secret";

/// The `iss` claim of the tokens the core mints and accepts.
pub const ISSUER: &str = "issuer";

/// A user's monthly job limit (a positive integer; the core's default otherwise).
pub const QUOTA_MONTHLY_JOBS: &str = "quota-monthly-jobs";

/// A user's monthly shot limit (a positive integer; the core's default otherwise).
pub const QUOTA_MONTHLY_SHOTS: &str = "quota-monthly-shots";

/// The shortest accepted `jwt-secret`, in bytes: an HS256 key as long as the
/// hash output (RFC 7518 section 3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// The issuer of tokens a server mints (`qhub serve` and the Worker), so a token
/// from one server is accepted by another sharing its secret.
pub const SERVER_ISSUER: &str = "qhub";

/// The issuer of tokens the CLI mints on the embedded database, which no server
/// accepts.
pub const EMBEDDED_ISSUER: &str = "qhub-embedded";

/// Operator settings a host passes from its environment (variables, Worker
/// variables) to the core unchanged when set and not empty: (variable, key).
pub const FROM_ENVIRONMENT: &[(&str, &str)] = &[
    ("QHUB_QUOTA_MONTHLY_JOBS", QUOTA_MONTHLY_JOBS),
    ("QHUB_QUOTA_MONTHLY_SHOTS", QUOTA_MONTHLY_SHOTS),
];

/// Which operator variable sets which of the core's keys, as one line for the
/// hint of a configuration the core refuses: "JWT_SECRET sets jwt-secret,
/// QHUB_QUOTA_MONTHLY_JOBS sets quota-monthly-jobs, ...". The same on every host
/// (the Worker's build writes it into its bundle).
pub fn settings_hint() -> String {
    std::iter::once(("JWT_SECRET", JWT_SECRET))
        .chain(FROM_ENVIRONMENT.iter().copied())
        .map(|(variable, key)| format!("{variable} sets {key}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_settings_hint_names_every_variable_with_its_key() {
        assert_eq!(
            super::settings_hint(),
            "JWT_SECRET sets jwt-secret, QHUB_QUOTA_MONTHLY_JOBS sets quota-monthly-jobs, \
             QHUB_QUOTA_MONTHLY_SHOTS sets quota-monthly-shots"
        );
    }
}
