//! GetRandomPassword through the official AWS SDK: the options, the refusals, and a property
//! test over thousands of random option sets.

mod common;

use std::cell::Cell;

use aws_sdk_secretsmanager::operation::get_random_password::GetRandomPasswordOutput;
use aws_sdk_secretsmanager::operation::get_random_password::builders::GetRandomPasswordFluentBuilder;
use common::{TestServer, error_of};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio::task::JoinSet;

const UPPERCASE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWERCASE: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn has_any(password: &str, class: &str) -> bool {
    password.chars().any(|c| class.contains(c))
}

async fn password(request: GetRandomPasswordFluentBuilder) -> String {
    request
        .send()
        .await
        .expect("get random password")
        .random_password()
        .expect("RandomPassword")
        .to_owned()
}

#[tokio::test]
async fn a_default_password_has_32_characters_of_all_four_types() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let drawn = password(client.get_random_password()).await;
        assert_eq!(drawn.chars().count(), 32, "{drawn}");
        for class in [UPPERCASE, LOWERCASE, DIGITS, PUNCTUATION] {
            assert!(has_any(&drawn, class), "{drawn} lacks one of {class}");
        }
        assert!(!drawn.contains(' '), "no space unless asked: {drawn:?}");
        seen.insert(drawn);
    }
    assert_eq!(seen.len(), 20, "20 draws, 20 different passwords");
}

#[tokio::test]
async fn password_length_is_1_to_4096() {
    let server = TestServer::start().await;
    let client = server.client();
    let one = password(
        client
            .get_random_password()
            .password_length(1)
            .require_each_included_type(false),
    )
    .await;
    assert_eq!(one.chars().count(), 1);
    // With one type left, one character can satisfy RequireEachIncludedType.
    let one = password(
        client
            .get_random_password()
            .password_length(1)
            .exclude_uppercase(true)
            .exclude_numbers(true)
            .exclude_punctuation(true),
    )
    .await;
    assert!(one.len() == 1 && has_any(&one, LOWERCASE), "{one:?}");
    let longest = password(client.get_random_password().password_length(4096)).await;
    assert_eq!(longest.chars().count(), 4096);

    for (length, constraint) in [
        (0, "Member must have value greater than or equal to 1"),
        (4097, "Member must have value less than or equal to 4096"),
    ] {
        let (code, message) = error_of(
            client
                .get_random_password()
                .password_length(length)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException", "{length}");
        assert!(message.contains("'passwordLength'"), "{message}");
        assert!(message.contains(constraint), "{message}");
    }
    let (code, message) = error_of(
        client
            .get_random_password()
            .exclude_characters("x".repeat(4097))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("'excludeCharacters'"), "{message}");
}

#[tokio::test]
async fn password_options_shape_the_password() {
    let server = TestServer::start().await;
    let client = server.client();

    let drawn = password(
        client
            .get_random_password()
            .password_length(200)
            .exclude_characters("aeiouAEIOU0123!\"'\\"),
    )
    .await;
    assert_eq!(drawn.len(), 200);
    assert!(
        !drawn.chars().any(|c| "aeiouAEIOU0123!\"'\\".contains(c)),
        "{drawn}"
    );
    assert!(
        has_any(&drawn, DIGITS) && has_any(&drawn, PUNCTUATION),
        "{drawn}"
    );

    for (switch, class) in [
        ("numbers", DIGITS),
        ("punctuation", PUNCTUATION),
        ("uppercase", UPPERCASE),
        ("lowercase", LOWERCASE),
    ] {
        let request = client.get_random_password().password_length(300);
        let request = match switch {
            "numbers" => request.exclude_numbers(true),
            "punctuation" => request.exclude_punctuation(true),
            "uppercase" => request.exclude_uppercase(true),
            _ => request.exclude_lowercase(true),
        };
        let drawn = password(request).await;
        assert_eq!(drawn.len(), 300);
        assert!(!has_any(&drawn, class), "{switch}: {drawn}");
        for other in [UPPERCASE, LOWERCASE, DIGITS, PUNCTUATION] {
            if other != class {
                assert!(has_any(&drawn, other), "{switch}: {drawn} lacks {other}");
            }
        }
    }

    // The space is admitted, never required: with only lowercase and the space, 500
    // characters include a space (all but certain), and the lowercase is still required.
    let drawn = password(
        client
            .get_random_password()
            .password_length(500)
            .exclude_uppercase(true)
            .exclude_numbers(true)
            .exclude_punctuation(true)
            .include_space(true),
    )
    .await;
    assert!(
        drawn.chars().all(|c| c == ' ' || LOWERCASE.contains(c)),
        "{drawn:?}"
    );
    assert!(
        drawn.contains(' ') && has_any(&drawn, LOWERCASE),
        "{drawn:?}"
    );
    // Every type switched off but the space admitted: a password of spaces (the space is
    // never a required type, so nothing is missing).
    let drawn = password(
        client
            .get_random_password()
            .password_length(5)
            .exclude_uppercase(true)
            .exclude_lowercase(true)
            .exclude_numbers(true)
            .exclude_punctuation(true)
            .include_space(true),
    )
    .await;
    assert_eq!(drawn, "     ");

    // RequireEachIncludedType=false: two characters from four types are allowed (with it on,
    // they are not).
    let drawn = password(
        client
            .get_random_password()
            .password_length(2)
            .require_each_included_type(false),
    )
    .await;
    assert_eq!(drawn.chars().count(), 2);
}

#[tokio::test]
async fn impossible_password_requests_are_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    let cases = [
        (
            client
                .get_random_password()
                .exclude_uppercase(true)
                .exclude_lowercase(true)
                .exclude_numbers(true)
                .exclude_punctuation(true),
            "All characters have been excluded from selection.",
        ),
        (
            client
                .get_random_password()
                .require_each_included_type(false)
                .exclude_uppercase(true)
                .exclude_lowercase(true)
                .exclude_punctuation(true)
                .exclude_characters(DIGITS),
            "All characters have been excluded from selection.",
        ),
        (
            client.get_random_password().password_length(3),
            "Password length is too short based on the required types.",
        ),
        (
            client.get_random_password().exclude_characters(DIGITS),
            "All characters of the desired type have been excluded.",
        ),
        (
            client
                .get_random_password()
                .password_length(4096)
                .exclude_characters(format!("{UPPERCASE}{LOWERCASE}{DIGITS}{PUNCTUATION}")),
            "All characters of the desired type have been excluded.",
        ),
    ];
    for (request, expected) in cases {
        let (code, message) = error_of(request.send().await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", expected)
        );
    }
    // Without RequireEachIncludedType, excluding every digit just leaves no digit.
    let drawn = password(
        client
            .get_random_password()
            .password_length(100)
            .require_each_included_type(false)
            .exclude_characters(DIGITS),
    )
    .await;
    assert!(!has_any(&drawn, DIGITS), "{drawn}");
}

/// The members of one GetRandomPassword request.
#[derive(Debug, Clone)]
struct Options {
    length: Option<i64>,
    exclude_characters: Option<String>,
    exclude_numbers: Option<bool>,
    exclude_punctuation: Option<bool>,
    exclude_uppercase: Option<bool>,
    exclude_lowercase: Option<bool>,
    include_space: Option<bool>,
    require_each_included_type: Option<bool>,
}

fn options() -> impl Strategy<Value = Options> {
    let printable: Vec<char> = (' '..='~').collect();
    let exclude = prop_oneof![
        4 => proptest::collection::vec(proptest::sample::select(printable), 0..16)
            .prop_map(|chars| chars.into_iter().collect::<String>()),
        // A whole type, to reach the "desired type excluded" refusal.
        1 => proptest::sample::select(vec![UPPERCASE, LOWERCASE, DIGITS, PUNCTUATION, " "])
            .prop_map(str::to_owned),
    ];
    let length = prop_oneof![
        6 => (1i64..=40).prop_map(Some),
        2 => (41i64..=4096).prop_map(Some),
        1 => Just(None),
    ];
    // Switches are mostly off, so most requests can be satisfied.
    let switch = || {
        prop_oneof![
            3 => Just(None),
            1 => Just(Some(false)),
            1 => Just(Some(true)),
        ]
    };
    (
        length,
        proptest::option::weighted(0.6, exclude),
        (switch(), switch(), switch(), switch()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(length, exclude_characters, switches, space, require)| Options {
                length,
                exclude_characters,
                exclude_numbers: switches.0,
                exclude_punctuation: switches.1,
                exclude_uppercase: switches.2,
                exclude_lowercase: switches.3,
                include_space: space,
                require_each_included_type: require,
            },
        )
}

/// What the options allow: the characters a password may hold and the types it must hold, or
/// `None` when no password can satisfy them.
fn oracle(options: &Options) -> Option<(String, Vec<String>)> {
    let excluded = options.exclude_characters.clone().unwrap_or_default();
    let require = options.require_each_included_type.unwrap_or(true);
    let length = usize::try_from(options.length.unwrap_or(32)).expect("positive");
    let mut allowed = String::new();
    let mut required = Vec::new();
    for (off, class) in [
        (options.exclude_uppercase, UPPERCASE),
        (options.exclude_lowercase, LOWERCASE),
        (options.exclude_numbers, DIGITS),
        (options.exclude_punctuation, PUNCTUATION),
    ] {
        if off.unwrap_or(false) {
            continue;
        }
        let kept: String = class.chars().filter(|c| !excluded.contains(*c)).collect();
        if require {
            if kept.is_empty() {
                return None;
            }
            required.push(kept.clone());
        }
        allowed.push_str(&kept);
    }
    if options.include_space.unwrap_or(false) && !excluded.contains(' ') {
        allowed.push(' ');
    }
    if allowed.is_empty() || required.len() > length {
        return None;
    }
    Some((allowed, required))
}

/// Requests sent at once in one proptest case (they run concurrently, so the 2,000 draws take
/// seconds, not tens of seconds, in a debug build).
const BATCH: usize = 50;
/// Cases of [`BATCH`] requests each: 2,000 draws in all.
const CASES: u32 = 40;

fn request(
    client: &aws_sdk_secretsmanager::Client,
    options: &Options,
) -> GetRandomPasswordFluentBuilder {
    client
        .get_random_password()
        .set_password_length(options.length)
        .set_exclude_characters(options.exclude_characters.clone())
        .set_exclude_numbers(options.exclude_numbers)
        .set_exclude_punctuation(options.exclude_punctuation)
        .set_exclude_uppercase(options.exclude_uppercase)
        .set_exclude_lowercase(options.exclude_lowercase)
        .set_include_space(options.include_space)
        .set_require_each_included_type(options.require_each_included_type)
}

type PasswordResult = Result<
    GetRandomPasswordOutput,
    aws_sdk_secretsmanager::error::SdkError<
        aws_sdk_secretsmanager::operation::get_random_password::GetRandomPasswordError,
    >,
>;

/// Checks one answer against [`oracle`]; `Ok(true)` for a password, `Ok(false)` for a refusal.
fn check(options: &Options, result: PasswordResult) -> Result<bool, TestCaseError> {
    match (oracle(options), result) {
        (Some((allowed, required)), Ok(output)) => {
            let password = output.random_password().unwrap_or_default();
            let length = usize::try_from(options.length.unwrap_or(32)).expect("length");
            prop_assert_eq!(password.chars().count(), length, "{:?}", options);
            prop_assert!(
                password.chars().all(|c| allowed.contains(c)),
                "{:?} holds a character outside {:?} ({:?})",
                password,
                allowed,
                options
            );
            for class in &required {
                prop_assert!(
                    has_any(password, class),
                    "{:?} lacks {:?} ({:?})",
                    password,
                    class,
                    options
                );
            }
            Ok(true)
        }
        (None, Err(error)) => {
            let (code, _) = error_of::<(), _>(Err(error));
            prop_assert_eq!(code, "InvalidParameterException", "{:?}", options);
            Ok(false)
        }
        (Some(_), Err(error)) => Err(TestCaseError::fail(format!(
            "{options:?} refused: {error:?}"
        ))),
        (None, Ok(output)) => Err(TestCaseError::fail(format!(
            "impossible {options:?} gave {:?}",
            output.random_password()
        ))),
    }
}

/// Draws through the SDK for 2,000 random option sets: every password has the asked length,
/// only allowed characters and every required type, and every refusal is an
/// `InvalidParameterException` for options no password could satisfy.
#[test]
fn random_passwords_always_honour_their_options() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(TestServer::start());
    let client = server.client();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let drawn = Cell::new(0u32);
    let refused = Cell::new(0u32);
    runner
        .run(&proptest::collection::vec(options(), BATCH), |batch| {
            let results = runtime.block_on(async {
                let mut requests = JoinSet::new();
                for (index, options) in batch.iter().enumerate() {
                    let request = request(&client, options);
                    requests.spawn(async move { (index, request.send().await) });
                }
                let mut results: Vec<_> = requests.join_all().await;
                results.sort_by_key(|(index, _)| *index);
                results
            });
            for (index, result) in results {
                if check(&batch[index], result)? {
                    drawn.set(drawn.get() + 1);
                } else {
                    refused.set(refused.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    // Both branches were exercised, so neither half of the property is vacuous.
    let (drawn, refused) = (drawn.get(), refused.get());
    assert!(drawn + refused >= 2_000, "{drawn} + {refused} requests");
    assert!(drawn >= 1_000, "{drawn} passwords drawn");
    assert!(refused >= 20, "{refused} requests refused");
}
