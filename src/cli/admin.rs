//! `coffer admin`: identities (users, access keys, policies, temporary credentials) managed
//! directly in the data directory or the PostgreSQL database, with the root key `serve` uses.
//! It may run while servers run on the same database (SQLite in WAL mode with a busy timeout;
//! PostgreSQL transactions); what it changes counts on every server at the next request.
//!
//! Output is a table (or JSON with `--json`); errors are one line on stderr and a failure
//! status. Secrets are printed only by the commands that create them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{DEFAULT_DATA_DIR, credentials_file, load_root_key, open_store};
use crate::audit::iso_time;
use crate::clock::SystemClock;
use crate::config::{Config, DatabaseUrl, ROOT_KEY_ENV, RootKeyConfig, Storage, database_path};
use crate::service::Service;
use crate::service::identity::model::{AccessKeyRecord, UserRecord};
use crate::service::identity::{Identities, NewAccessKey, parse_duration};
use crate::store::postgres::DEFAULT_POOL_SIZE;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The data directory of the embedded database.
    #[arg(long, env = "COFFER_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,
    /// The PostgreSQL database instead of a data directory.
    #[arg(
        long,
        env = "COFFER_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<DatabaseUrl>,
    /// The root key file (by default `root.key` in the data directory); the root key may also
    /// come from the environment variable COFFER_ROOT_KEY.
    #[arg(long, env = "COFFER_ROOT_KEY_FILE", global = true)]
    pub root_key_file: Option<PathBuf>,
    /// The 12-digit account id the identities belong to.
    #[arg(
        long,
        env = "COFFER_ACCOUNT_ID",
        default_value = "123456789012",
        global = true
    )]
    pub account_id: String,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// IAM users.
    #[command(subcommand)]
    User(UserCommand),
    /// Access keys of a user (or of the account's root: the user name `root`).
    #[command(subcommand, name = "access-key")]
    AccessKey(AccessKeyCommand),
    /// Inline identity policies of a user.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Temporary credentials.
    #[command(subcommand)]
    Session(SessionCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create { name: String },
    /// List the users.
    List,
    /// Disable a user: its access keys stop working.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Delete a user with its access keys and policies.
    Delete { name: String },
}

/// Where a new key goes: printed, or a profile of a credentials file.
#[derive(Debug, Args)]
pub struct KeyOutput {
    /// Write the key into this credentials file (aws CLI format, mode 0600; other profiles
    /// are kept) instead of printing its secret.
    #[arg(long, requires = "profile")]
    pub profile_file: Option<PathBuf>,
    /// The profile to write in --profile-file.
    #[arg(long, requires = "profile_file")]
    pub profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AccessKeyCommand {
    /// Create an access key; its secret is shown once.
    Create {
        user: String,
        #[command(flatten)]
        output: KeyOutput,
    },
    /// List a user's access keys (no secrets).
    List { user: String },
    /// Make an access key inactive.
    Disable { id: String },
    /// Make an inactive access key active again.
    Enable { id: String },
    /// Delete an access key.
    Delete { id: String },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Attach (or replace) a user's inline identity policy.
    Attach {
        user: String,
        name: String,
        /// The policy document: a file, or `-` for standard input.
        #[arg(long)]
        document: String,
    },
    /// Detach a user's policy.
    Detach { user: String, name: String },
    /// List a user's policies.
    List { user: String },
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Create temporary credentials (an ASIA access key, a secret and a session token).
    Create {
        user: String,
        /// How long they last: 15m to 36h (`1h`, `90m`, `1h30m`, `3600s`).
        #[arg(long, default_value = "1h")]
        duration: String,
        #[command(flatten)]
        output: KeyOutput,
    },
}

impl AdminArgs {
    fn config(&self) -> Result<Config, String> {
        let storage = match &self.database_url {
            Some(url) => Storage::Postgres {
                url: url.clone(),
                pool_size: DEFAULT_POOL_SIZE.min(4),
            },
            None => Storage::DataDir(self.data_dir.clone()),
        };
        let root_key = if std::env::var_os(ROOT_KEY_ENV).is_some() {
            RootKeyConfig::Env
        } else if let Some(path) = &self.root_key_file {
            RootKeyConfig::File(path.clone())
        } else {
            RootKeyConfig::Default
        };
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            auth: crate::config::AuthConfig::Verify,
            storage,
            root_key,
            account_id: self.account_id.clone(),
            purge_interval: Duration::from_secs(60),
            credentials_dir: None,
        }
        .validate()
        .map_err(|error| error.to_string())
    }
}

/// Opens the store and checks the root key, as `serve` does (but never creates a database
/// or a root key).
async fn identities(config: &Config) -> Result<Identities, String> {
    if let Storage::DataDir(dir) = &config.storage
        && !database_path(dir).exists()
    {
        return Err(format!(
            "no Coffer database in {} (start `coffer serve --data-dir {}` once first, or give \
             --data-dir or --database-url)",
            dir.display(),
            dir.display()
        ));
    }
    let store = open_store(&config.storage).await?;
    let root_key = load_root_key(config, false)?;
    let service = Service::new(Arc::clone(&store), Arc::new(SystemClock), root_key.clone());
    service.keyring().check_root_key().await?;
    Ok(Identities::new(
        store,
        Arc::new(SystemClock),
        root_key,
        &config.account_id,
    ))
}

pub async fn run(args: AdminArgs) -> Result<(), String> {
    let config = args.config()?;
    let identities = identities(&config).await?;
    let json = args.json;
    let error = |error: crate::service::identity::IdentityError| error.to_string();
    match args.command {
        AdminCommand::User(command) => match command {
            UserCommand::Create { name } => {
                let user = identities.create_user(&name).await.map_err(error)?;
                print_users(&[user], json);
            }
            UserCommand::List => {
                let users = identities.list_users().await.map_err(error)?;
                print_users(&users, json);
            }
            UserCommand::Disable { name } => {
                let user = identities
                    .set_user_enabled(&name, false)
                    .await
                    .map_err(error)?;
                print_users(&[user], json);
            }
            UserCommand::Enable { name } => {
                let user = identities
                    .set_user_enabled(&name, true)
                    .await
                    .map_err(error)?;
                print_users(&[user], json);
            }
            UserCommand::Delete { name } => {
                let user = identities.delete_user(&name).await.map_err(error)?;
                print_done(
                    json,
                    &format!("deleted user {}", user.name),
                    json!({"Deleted": user.name}),
                );
            }
        },
        AdminCommand::AccessKey(command) => match command {
            AccessKeyCommand::Create { user, output } => {
                let key = identities.create_access_key(&user).await.map_err(error)?;
                print_new_key(&key, &output, json)?;
            }
            AccessKeyCommand::List { user } => {
                let keys = identities.list_access_keys(&user).await.map_err(error)?;
                print_keys(&user, &keys, json);
            }
            AccessKeyCommand::Disable { id } => {
                identities
                    .set_access_key_enabled(&id, false)
                    .await
                    .map_err(error)?;
                print_done(
                    json,
                    &format!("access key {id} is inactive"),
                    json!({"AccessKeyId": id, "Status": "Inactive"}),
                );
            }
            AccessKeyCommand::Enable { id } => {
                identities
                    .set_access_key_enabled(&id, true)
                    .await
                    .map_err(error)?;
                print_done(
                    json,
                    &format!("access key {id} is active"),
                    json!({"AccessKeyId": id, "Status": "Active"}),
                );
            }
            AccessKeyCommand::Delete { id } => {
                identities.delete_access_key(&id).await.map_err(error)?;
                print_done(
                    json,
                    &format!("deleted access key {id}"),
                    json!({"Deleted": id}),
                );
            }
        },
        AdminCommand::Policy(command) => match command {
            PolicyCommand::Attach {
                user,
                name,
                document,
            } => {
                let text = read_document(&document)?;
                identities
                    .attach_policy(&user, &name, &text)
                    .await
                    .map_err(error)?;
                print_done(
                    json,
                    &format!("attached policy {name} to user {user}"),
                    json!({"UserName": user, "PolicyName": name}),
                );
            }
            PolicyCommand::Detach { user, name } => {
                identities
                    .detach_policy(&user, &name)
                    .await
                    .map_err(error)?;
                print_done(
                    json,
                    &format!("detached policy {name} from user {user}"),
                    json!({"UserName": user, "PolicyName": name, "Detached": true}),
                );
            }
            PolicyCommand::List { user } => {
                let policies = identities.list_policies(&user).await.map_err(error)?;
                if json {
                    let list: Vec<Value> = policies
                        .iter()
                        .map(|policy| {
                            json!({
                                "PolicyName": policy.name,
                                "PolicyDocument": policy.document,
                                "UpdateDate": iso_time(policy.updated_at),
                            })
                        })
                        .collect();
                    print_json(&json!({"UserName": user, "Policies": list}));
                } else {
                    let rows = policies
                        .iter()
                        .map(|policy| vec![policy.name.clone(), iso_time(policy.updated_at)])
                        .collect::<Vec<_>>();
                    print_table(&["POLICY", "UPDATED"], &rows);
                }
            }
        },
        AdminCommand::Session(SessionCommand::Create {
            user,
            duration,
            output,
        }) => {
            let duration = parse_duration(&duration)
                .ok_or_else(|| format!("invalid duration {duration:?} (say 1h, 90m or 3600s)"))?;
            let key = identities
                .create_session(&user, duration)
                .await
                .map_err(error)?;
            print_new_key(&key, &output, json)?;
        }
    }
    Ok(())
}

fn read_document(source: &str) -> Result<String, String> {
    if source == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|error| format!("cannot read the policy document from stdin: {error}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(source)
            .map_err(|error| format!("cannot read the policy document {source}: {error}"))
    }
}

fn status(enabled: bool) -> &'static str {
    if enabled { "Active" } else { "Inactive" }
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        println!("{}", text.trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn print_done(json: bool, message: &str, value: Value) {
    if json {
        print_json(&value);
    } else {
        println!("{message}");
    }
}

fn print_users(users: &[UserRecord], json: bool) {
    if json {
        let list: Vec<Value> = users
            .iter()
            .map(|user| {
                json!({
                    "UserName": user.name,
                    "UserId": user.id,
                    "Arn": user.arn,
                    "Status": status(user.enabled),
                    "CreateDate": iso_time(user.created_at),
                })
            })
            .collect();
        print_json(&json!({"Users": list}));
        return;
    }
    let rows = users
        .iter()
        .map(|user| {
            vec![
                user.name.clone(),
                user.id.clone(),
                status(user.enabled).to_owned(),
                iso_time(user.created_at),
                user.arn.clone(),
            ]
        })
        .collect::<Vec<_>>();
    print_table(&["NAME", "USER ID", "STATUS", "CREATED", "ARN"], &rows);
}

fn print_keys(user: &str, keys: &[AccessKeyRecord], json: bool) {
    let expiry = |key: &AccessKeyRecord| key.expires_at.map(iso_time);
    if json {
        let list: Vec<Value> = keys
            .iter()
            .map(|key| {
                json!({
                    "UserName": user,
                    "AccessKeyId": key.id,
                    "Status": status(key.enabled),
                    "CreateDate": iso_time(key.created_at),
                    "Expiration": expiry(key),
                })
            })
            .collect();
        print_json(&json!({"AccessKeyMetadata": list}));
        return;
    }
    let rows = keys
        .iter()
        .map(|key| {
            vec![
                key.id.clone(),
                status(key.enabled).to_owned(),
                iso_time(key.created_at),
                expiry(key).unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect::<Vec<_>>();
    print_table(&["ACCESS KEY ID", "STATUS", "CREATED", "EXPIRES"], &rows);
}

fn print_new_key(key: &NewAccessKey, output: &KeyOutput, json: bool) -> Result<(), String> {
    if let (Some(path), Some(profile)) = (&output.profile_file, &output.profile) {
        credentials_file::write_profile(path, profile, key)?;
        print_done(
            json,
            &format!(
                "wrote access key {} of {} as profile {profile:?} to {}",
                key.access_key_id,
                key.arn,
                path.display()
            ),
            json!({
                "AccessKeyId": key.access_key_id,
                "Arn": key.arn,
                "ProfileFile": path.display().to_string(),
                "Profile": profile,
            }),
        );
        return Ok(());
    }
    if json {
        let mut value = json!({
            "UserName": key.user_name,
            "Arn": key.arn,
            "AccessKeyId": key.access_key_id,
            "SecretAccessKey": key.secret_access_key.expose(),
            "Status": "Active",
        });
        if let Some(token) = &key.session_token {
            value["SessionToken"] = json!(token.expose());
        }
        if let Some(expires_at) = key.expires_at {
            value["Expiration"] = json!(iso_time(expires_at));
        }
        print_json(&value);
        return Ok(());
    }
    let mut rows = vec![
        vec!["UserName".to_owned(), key.user_name.clone()],
        vec!["AccessKeyId".to_owned(), key.access_key_id.clone()],
        vec![
            "SecretAccessKey".to_owned(),
            key.secret_access_key.expose().to_owned(),
        ],
    ];
    if let Some(token) = &key.session_token {
        rows.push(vec!["SessionToken".to_owned(), token.expose().to_owned()]);
    }
    if let Some(expires_at) = key.expires_at {
        rows.push(vec!["Expiration".to_owned(), iso_time(expires_at)]);
    }
    print_table(&["FIELD", "VALUE"], &rows);
    println!("(the secret is shown only now)");
    Ok(())
}
